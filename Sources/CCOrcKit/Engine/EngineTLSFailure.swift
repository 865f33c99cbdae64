/// What a failed TLS connection means, in one line naming the engine and the file to look at:
/// curl's SSL error codes (CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
/// CURLE_SSL_CERTPROBLEM, CURLE_SSL_CONNECT_ERROR, ...) told apart by the code and curl's text.
enum EngineTLSFailure {
    /// The CURLcode values this explains, spelled out so the decision needs no libcurl header.
    private static let peerFailedVerification = 60
    private static let caCertificateBadFile = 77
    private static let certificateProblem = 58
    private static let connectError = 35

    /// What the engine refused: the client certificate offered, or a connection without one.
    private static func refusal(_ clientFiles: String?) -> String {
        clientFiles.map { "the engine refused the client certificate \($0)" }
            ?? "the engine refused a connection without a client certificate (cert.pem and key.pem)"
    }

    /// The message of `error` (of code `.tls` or `.tlsUnavailable`) for the engine at `host`.
    static func message(_ error: TransportError, host: EngineHost) -> String {
        let name = host.displayName
        if error.code == .tlsUnavailable {
            return
                "\(name) is reached over TLS, which this build does through the system's libcurl: \(error.message); install it (apt-get install libcurl4)"
        }
        let tls = host.tls ?? EngineHost.TLS()
        let ca = tls.caFile ?? "the system's CA certificates"
        let clientFiles = tls.certificateFile.map { certificate in
            tls.keyFile.map { "\(certificate) with \($0)" } ?? certificate
        }
        let noClientHint =
            clientFiles == nil
            ? " (no client certificate was offered; the engine may require cert.pem and key.pem)" : ""
        switch error.curlCode {
        case peerFailedVerification:
            return "\(name): the engine's certificate is not trusted by \(ca): \(error.message)"
        case caCertificateBadFile:
            return "\(name): cannot use the CA certificate \(ca): \(error.message)"
        case certificateProblem:
            return "\(name): cannot use the client certificate \(clientFiles ?? "(none)"): \(error.message)"
        case connectError:
            if error.message.contains("certificate required") || error.message.contains("bad certificate")
                || error.message.contains("unknown ca")
            {
                return "\(name): \(refusal(clientFiles)): \(error.message)"
            }
            return "\(name): the TLS handshake failed: \(error.message)\(noClientHint)"
        default:
            if error.message.contains("certificate required") || error.message.contains("bad certificate")
                || error.message.contains("unknown ca")
            {
                return "\(name): \(refusal(clientFiles)): \(error.message)"
            }
            return "\(name): the TLS connection failed: \(error.message)\(noClientHint)"
        }
    }
}

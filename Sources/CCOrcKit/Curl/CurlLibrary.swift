import CShims

// Which libcurl a transport calls, and where its requests go. The static, HTTP-only libcurl
// linked into the product serves Unix sockets and plain tcp://; an engine reached over TLS is
// served by the system's libcurl.so.4, loaded on first use (see CShims/include/curl_api.h). A
// process that never talks TLS never loads it, nor OpenSSL.

/// One libcurl's table of functions: every handle is made, used and freed through the table of
/// the library that made it.
struct CurlLibrary: @unchecked Sendable {
    /// The table; it lives as long as the process (static storage or a library never unloaded).
    let api: UnsafePointer<cshims_curl_api>
    /// Whether this is the dlopened system library with TLS.
    let hasTLS: Bool

    /// The static libcurl linked into the product, initialised on first use.
    static func bundled() throws(TransportError) -> CurlLibrary {
        guard let api = cshims_curl_bundled() else {
            throw TransportError(code: .other, message: "curl_global_init failed")
        }
        return CurlLibrary(api: api, hasTLS: false)
    }

    /// The system's libcurl.so.4 with TLS, loaded and initialised once per process.
    /// - Throws: `TransportError.Code.tlsUnavailable` with the loader's reason when it cannot be
    ///   loaded or has no TLS.
    static func system() throws(TransportError) -> CurlLibrary {
        var reason = [CChar](repeating: 0, count: 512)
        let api = reason.withUnsafeMutableBufferPointer { cshims_curl_system($0.baseAddress!, $0.count) }
        guard let api else {
            let text = reason.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw TransportError(code: .tlsUnavailable, message: text)
        }
        return CurlLibrary(api: api, hasTLS: true)
    }

    /// curl's text for `code`, from this library.
    func describe(_ code: CURLcode) -> String { String(cString: cshims_curl_easy_strerror(api, code)) }

    /// The library's version and TLS backend, e.g. `7.88.1 OpenSSL/3.0.19`.
    var version: String {
        let tls = String(cString: cshims_curl_ssl_version(api))
        return String(cString: cshims_curl_version(api)) + (tls.isEmpty ? "" : " " + tls)
    }
}

/// Where a transport's requests go and how: a Unix socket, or an HTTP(S) base URL with TLS files.
struct CurlEndpoint: Sendable, Equatable {
    /// The Unix socket to connect to; nil for TCP.
    var unixSocket: String?
    /// The URL every request path is appended to: `http://localhost` on a Unix socket (the host
    /// part is ignored there but must be valid), else `http://HOST:PORT` or `https://HOST:PORT`.
    var baseURL: String
    /// The TLS settings; nil for plain HTTP.
    var tls: TLSFiles?

    /// The files and checks of a TLS connection (CURLOPT_CAINFO, SSLCERT, SSLKEY, SSL_VERIFYPEER,
    /// SSL_VERIFYHOST).
    struct TLSFiles: Sendable, Equatable {
        /// The CA certificates the engine's certificate must chain to; nil for the system's.
        var caFile: String?
        /// The client certificate to present; nil for none.
        var certificateFile: String?
        /// The client certificate's key; nil for none.
        var keyFile: String?
        /// Whether the engine's certificate and name are verified.
        var verify: Bool
    }

    /// Sets the connection options of this endpoint on `handle` of `library`.
    func apply(to handle: UnsafeMutableRawPointer, of library: CurlLibrary) throws(TransportError) {
        func check(_ code: CURLcode) throws(TransportError) {
            if code != CURLE_OK { throw TransportError(curlCode: code, detail: nil) }
        }
        let api = library.api
        if let unixSocket {
            try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_UNIX_SOCKET_PATH, unixSocket))
        }
        guard let tls else { return }
        if let caFile = tls.caFile { try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_CAINFO, caFile)) }
        if let certificate = tls.certificateFile {
            try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_SSLCERT, certificate))
        }
        if let key = tls.keyFile { try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_SSLKEY, key)) }
        try check(cshims_curl_easy_setopt_long(api, handle, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1 : 0))
        try check(cshims_curl_easy_setopt_long(api, handle, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2 : 0))
    }

    /// The library that serves this endpoint: the system's for TLS, else the bundled one.
    func library() throws(TransportError) -> CurlLibrary {
        tls == nil ? try CurlLibrary.bundled() : try CurlLibrary.system()
    }
}

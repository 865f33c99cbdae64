import CCOrcHeader

/// The version both CLIs print for `--version`: `CCORC_VERSION` in include/ccorc.h, the one place
/// it is written (ccorc_version() and the Makefile read it there too).
public let ccorcVersion: String = CCORC_VERSION

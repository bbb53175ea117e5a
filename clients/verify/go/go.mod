module wxauth-verify

go 1.19

// v4.5.2 or later: earlier v4 releases allocate without bound on a token with many dots
// (CVE-2025-30204). The project's tests build against Debian's packaged v4 in GOPATH mode.
require github.com/golang-jwt/jwt/v4 v4.5.2

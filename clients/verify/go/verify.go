// Verifies a wxauth result token with github.com/golang-jwt/jwt/v4 and prints its claims
// as JSON.
//
//	go mod tidy && go build -o verify .
//	TOKEN_SIGNING_KEY=… ./verify TOKEN ISSUER AUDIENCE
//
// ISSUER is the gateway's base URL (e.g. https://login.example.com), AUDIENCE your page's
// origin (e.g. https://app.example.com). Exit 0 with the claims on stdout; 1 when the token
// is refused (the reason on stderr); 2 on wrong usage. See docs/clients.md.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// resultTokenType is the header's typ of a result token: no ID token or other JWT signed
// with the same key has it.
const resultTokenType = "wxauth-result+jwt"

// leeway is the clock difference allowed between the gateway and this machine, in seconds.
const leeway = 30

// verify returns the token's claims if it verifies.
func verify(token string, key []byte, issuer, audience string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"HS256"}), // only HS256: "none" and all others are refused
		jwt.WithJSONNumber(),                    // keep exp and iat integers
		// v4's own time checks have no leeway, and refuse a token whose iat is ahead of
		// this clock (as it is right after issue when the gateway's clock is a second
		// ahead): exp and nbf are checked below instead. The signature is still verified.
		jwt.WithoutClaimsValidation(),
	)
	parsed, err := parser.ParseWithClaims(token, claims, func(*jwt.Token) (interface{}, error) {
		return key, nil // TOKEN_SIGNING_KEY's text itself is the key
	})
	if err != nil {
		return nil, err
	}
	if !parsed.Valid {
		return nil, errors.New("token is not valid")
	}
	// golang-jwt has no typ check of its own: the verified header is read.
	if typ, _ := parsed.Header["typ"].(string); typ != resultTokenType {
		return nil, errors.New("typ is not " + resultTokenType)
	}
	now := time.Now().Unix()
	if !claims.VerifyExpiresAt(now-leeway, true) {
		return nil, errors.New("token has expired (or has no exp)")
	}
	if !claims.VerifyNotBefore(now+leeway, false) {
		return nil, errors.New("token is not valid yet (nbf)")
	}
	if !claims.VerifyIssuer(issuer, true) {
		return nil, errors.New("iss is not the expected issuer")
	}
	if !claims.VerifyAudience(audience, true) {
		return nil, errors.New("aud is not the expected audience")
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return nil, errors.New("sub is missing")
	}
	return claims, nil
}

func main() {
	key := os.Getenv("TOKEN_SIGNING_KEY")
	if len(os.Args) != 4 || key == "" {
		fmt.Fprintln(os.Stderr, "usage: TOKEN_SIGNING_KEY=… verify TOKEN ISSUER AUDIENCE")
		os.Exit(2)
	}
	claims, err := verify(os.Args[1], []byte(key), os.Args[2], os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "token refused:", err)
		os.Exit(1)
	}
	out, err := json.Marshal(claims) // claims["sub"] is the openid
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

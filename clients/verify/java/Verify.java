// Verifies a wxauth result token and prints its claims as JSON: HMAC-SHA256 from the JDK
// (javax.crypto.Mac, constant-time comparison with MessageDigest.isEqual) and Jackson
// (com.fasterxml.jackson.databind) for the JSON. No JWT library: none is packaged where
// this project's machines can install from (see docs/clients.md).
//
//   javac -cp jackson-databind.jar:jackson-core.jar:jackson-annotations.jar Verify.java
//   TOKEN_SIGNING_KEY=… java -cp .:jackson-databind.jar:jackson-core.jar:jackson-annotations.jar \
//       Verify TOKEN ISSUER AUDIENCE
//
// ISSUER is the gateway's base URL (e.g. https://login.example.com), AUDIENCE your page's
// origin (e.g. https://app.example.com). Exit 0 with the claims on stdout; 1 when the token
// is refused (the reason on stderr); 2 on wrong usage.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public final class Verify {
    /** Why a token was refused. */
    public static final class RefusedException extends Exception {
        private static final long serialVersionUID = 1L;

        RefusedException(String reason) {
            super(reason);
        }
    }

    /** The header's typ of a result token: no ID token or other JWT signed with the same key has it. */
    public static final String RESULT_TOKEN_TYPE = "wxauth-result+jwt";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Seconds of clock difference allowed between the gateway and this machine. */
    private static final long LEEWAY_SECONDS = 30;
    /** A compact JWS: three base64url parts without padding (the last may be empty: "none"). */
    private static final Pattern COMPACT = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");

    /** The token's claims if it verifies at {@code nowSeconds}. */
    public static JsonNode verify(String token, byte[] key, String issuer, String audience, long nowSeconds)
            throws RefusedException {
        if (!COMPACT.matcher(token).matches()) {
            throw new RefusedException("not a JWT (three base64url parts)");
        }
        String[] parts = token.split("\\.", -1);
        JsonNode header = json(parts[0]);
        // Only HS256: "none" and every other algorithm are refused. No "crit" extension is
        // understood, so a token that carries one is refused too (RFC 7515 §4.1.11).
        if (!header.path("alg").isTextual() || !header.get("alg").asText().equals("HS256")) {
            throw new RefusedException("alg is not HS256");
        }
        if (header.has("crit")) {
            throw new RefusedException("unsupported crit header");
        }
        byte[] expected;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            expected = mac.doFinal((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        if (!MessageDigest.isEqual(expected, base64url(parts[2]))) { // constant time
            throw new RefusedException("signature does not match");
        }
        if (!header.path("typ").isTextual() || !header.get("typ").asText().equals(RESULT_TOKEN_TYPE)) {
            throw new RefusedException("typ is not " + RESULT_TOKEN_TYPE);
        }
        JsonNode claims = json(parts[1]);
        if (!claims.isObject()) {
            throw new RefusedException("claims are not a JSON object");
        }
        JsonNode exp = claims.get("exp");
        if (exp == null || !exp.isNumber()) {
            throw new RefusedException("exp is missing");
        }
        if (nowSeconds - LEEWAY_SECONDS >= exp.asLong()) {
            throw new RefusedException("token has expired");
        }
        JsonNode nbf = claims.get("nbf");
        if (nbf != null && (!nbf.isNumber() || nowSeconds + LEEWAY_SECONDS < nbf.asLong())) {
            throw new RefusedException("token is not valid yet");
        }
        if (!claims.path("iss").isTextual() || !claims.get("iss").asText().equals(issuer)) {
            throw new RefusedException("iss is not the expected issuer");
        }
        if (!audienceMatches(claims.get("aud"), audience)) {
            throw new RefusedException("aud is not the expected audience");
        }
        if (!claims.path("sub").isTextual() || claims.get("sub").asText().isEmpty()) {
            throw new RefusedException("sub is missing");
        }
        return claims; // claims.get("sub").asText() is the openid
    }

    private static boolean audienceMatches(JsonNode aud, String audience) {
        if (aud != null && aud.isTextual()) {
            return aud.asText().equals(audience);
        }
        if (aud != null && aud.isArray()) {
            for (JsonNode one : aud) {
                if (one.isTextual() && one.asText().equals(audience)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static byte[] base64url(String part) throws RefusedException {
        try {
            return Base64.getUrlDecoder().decode(part);
        } catch (IllegalArgumentException e) {
            throw new RefusedException("bad base64url");
        }
    }

    private static JsonNode json(String part) throws RefusedException {
        try {
            return JSON.readTree(base64url(part));
        } catch (java.io.IOException e) {
            throw new RefusedException("bad JSON");
        }
    }

    public static void main(String[] args) throws Exception {
        String key = System.getenv("TOKEN_SIGNING_KEY");
        if (args.length != 3 || key == null || key.isEmpty()) {
            System.err.println("usage: TOKEN_SIGNING_KEY=… java Verify TOKEN ISSUER AUDIENCE");
            System.exit(2);
        }
        try {
            // TOKEN_SIGNING_KEY's text itself is the key (UTF-8 bytes).
            JsonNode claims = verify(args[0], key.getBytes(StandardCharsets.UTF_8), args[1], args[2],
                    System.currentTimeMillis() / 1000);
            System.out.write(JSON.writeValueAsBytes(claims)); // UTF-8, whatever the locale
            System.out.println();
        } catch (RefusedException e) {
            System.err.println("token refused: " + e.getMessage());
            System.exit(1);
        }
    }
}

// Verifies a wxauth result token with jose (npm) and prints its claims as JSON.
//
//   npm install jose
//   TOKEN_SIGNING_KEY=… node verify.mjs TOKEN ISSUER AUDIENCE
//
// ISSUER is the gateway's base URL (e.g. https://login.example.com), AUDIENCE your page's
// origin (e.g. https://app.example.com). Exit 0 with the claims on stdout; 1 when the token
// is refused (the reason on stderr); 2 on wrong usage. See docs/clients.md.
import { jwtVerify } from "jose";

const [token, issuer, audience] = process.argv.slice(2);
const key = process.env.TOKEN_SIGNING_KEY;
if (process.argv.length !== 5 || !key) {
  console.error("usage: TOKEN_SIGNING_KEY=… node verify.mjs TOKEN ISSUER AUDIENCE");
  process.exit(2);
}

try {
  // The key is TOKEN_SIGNING_KEY's text itself, as bytes (UTF-8).
  const { payload } = await jwtVerify(token, new TextEncoder().encode(key), {
    algorithms: ["HS256"], // only HS256: "none" and every other algorithm are refused
    typ: "wxauth-result+jwt", // a result token, not an ID token or another JWT of this key
    issuer, // iss must equal the gateway's base URL
    audience, // aud must be your origin
    requiredClaims: ["exp", "sub"], // jose checks exp only when present: require it
    clockTolerance: 30, // seconds of clock difference between the gateway and this machine
  });
  console.log(JSON.stringify(payload)); // payload.sub is the openid
} catch (error) {
  console.error(`token refused: ${error.code ?? error.name}: ${error.message}`);
  process.exit(1);
}

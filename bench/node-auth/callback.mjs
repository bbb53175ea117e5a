// The base callback (/getOpenId) a team would write beside index.mjs for Lambda's Node.js
// runtime: consume the state index.mjs stored (one DeleteItem, AWS SDK v3), exchange the
// code at WeChat's API (fetch, Node's own TLS and root store), sign an HS256 result token
// (node:crypto) and redirect to the stored return URL. Only the cold-login benchmark
// (bench/src/bin/coldlogin.rs) runs it; it does less than wxauth's callback (no browser
// binding, no duplicate-callback replay, no failover), so the comparison favours it.
import { DynamoDBClient, DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import { createHmac } from "node:crypto";

const dynamo = new DynamoDBClient({});
const table = process.env.STATE_TABLE;
const appId = process.env.WECHAT_APP_ID;
const secret = process.env.WECHAT_APP_SECRET;
const apiBase = process.env.WECHAT_API_BASE || "https://api.weixin.qq.com";
const key = process.env.TOKEN_SIGNING_KEY;

function reply(statusCode, body) {
  return {
    statusCode,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: JSON.stringify(body),
  };
}

function base64url(data) {
  return Buffer.from(data).toString("base64url");
}

function token(claims) {
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(JSON.stringify(claims));
  const signature = createHmac("sha256", key).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

export async function handler(event) {
  const params = new URLSearchParams(event.rawQueryString || "");
  const code = params.get("code");
  const state = params.get("state");
  if (!code || !state) {
    return reply(400, { error: "invalid_request" });
  }
  let stored;
  try {
    const out = await dynamo.send(
      new DeleteItemCommand({
        TableName: table,
        Key: { state: { S: state } },
        ConditionExpression: "attribute_exists(#s)",
        ExpressionAttributeNames: { "#s": "state" },
        ReturnValues: "ALL_OLD",
      }),
    );
    stored = out.Attributes;
  } catch (error) {
    if (error.name === "ConditionalCheckFailedException") {
      return reply(400, { error: "unknown_state" });
    }
    throw error;
  }
  const now = Math.floor(Date.now() / 1000);
  if (Number(stored.expires_at.N) < now) {
    return reply(400, { error: "expired_state" });
  }
  const query = new URLSearchParams({
    appid: appId,
    secret,
    code,
    grant_type: "authorization_code",
  });
  const answer = await fetch(`${apiBase}/sns/oauth2/access_token?${query}`, {
    signal: AbortSignal.timeout(6500),
  });
  const wechat = JSON.parse(await answer.text());
  if (!wechat.openid) {
    return reply(502, { error: "wechat", errcode: wechat.errcode });
  }
  const result = new URL(stored.return_url.S);
  result.searchParams.set("token", token({ openid: wechat.openid, iat: now, exp: now + 300 }));
  return {
    statusCode: 302,
    headers: { location: result.href, "cache-control": "no-store" },
    body: "",
  };
}

// The managed runtime's loop, as in index.mjs.
const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
for (;;) {
  const next = await fetch(`${api}/invocation/next`);
  const requestId = next.headers.get("lambda-runtime-aws-request-id");
  const event = await next.json();
  try {
    const result = await handler(event);
    await fetch(`${api}/invocation/${requestId}/response`, {
      method: "POST",
      body: JSON.stringify(result),
    });
  } catch (error) {
    await fetch(`${api}/invocation/${requestId}/error`, {
      method: "POST",
      body: JSON.stringify({ errorMessage: String(error), errorType: error.name }),
    });
  }
}

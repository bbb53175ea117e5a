// The /auth a team would otherwise write for Lambda's Node.js 20 runtime: check the return
// URL against the allowlist, store a fresh state in DynamoDB (AWS SDK v3), redirect to
// WeChat. The loop at the bottom is what the managed runtime does around a handler.
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { randomBytes } from "node:crypto";

const dynamo = new DynamoDBClient({});
const table = process.env.STATE_TABLE;
const appId = process.env.WECHAT_APP_ID;
const openBase = process.env.WECHAT_OPEN_BASE || "https://open.weixin.qq.com";
const allowed = new Set(process.env.ALLOWED_RETURN_ORIGINS.split(",").map((o) => o.trim()));
const ttl = Number(process.env.STATE_TTL_SECONDS || 600);
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function state() {
  let out = "";
  while (out.length < 32) {
    for (const b of randomBytes(48)) {
      if (b < 248 && out.length < 32) out += ALPHABET[b % 62];
    }
  }
  return out;
}

function reply(statusCode, body) {
  return {
    statusCode,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: JSON.stringify(body),
  };
}

export async function handler(event) {
  const params = new URLSearchParams(event.rawQueryString || "");
  const scope = params.get("scope");
  if (scope !== "snsapi_base" && scope !== "snsapi_userinfo") {
    return reply(400, { error: "invalid_scope" });
  }
  let url;
  try {
    url = new URL(params.get("url"));
  } catch {
    return reply(400, { error: "invalid_request" });
  }
  if (url.href !== params.get("url") || url.username || !allowed.has(url.origin)) {
    return reply(400, { error: "invalid_request" });
  }
  const id = state();
  await dynamo.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        state: { S: id },
        scope: { S: scope },
        return_url: { S: url.href },
        response_mode: { S: "query" },
        expires_at: { N: String(Math.floor(Date.now() / 1000) + ttl) },
      },
      ConditionExpression: "attribute_not_exists(#s)",
      ExpressionAttributeNames: { "#s": "state" },
    }),
  );
  const callback = `https://${event.requestContext.domainName}/${scope === "snsapi_base" ? "getOpenId" : "getWxUserInfo"}`;
  const query = new URLSearchParams({
    appid: appId,
    redirect_uri: callback,
    response_type: "code",
    scope,
    state: id,
  });
  return {
    statusCode: 302,
    headers: {
      location: `${openBase}/connect/oauth2/authorize?${query}#wechat_redirect`,
      "cache-control": "no-store",
    },
    body: "",
  };
}

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

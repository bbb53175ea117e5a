//! The desktop page `/connect/qrconnect` shows: a QR code for WeChat to scan. A real
//! login goes on on the phone (scan, then 确认登录) while this page waits; here two
//! buttons stand in for the phone and submit to `qrconnect/confirm`, like the
//! consent sheet's form. Self-contained: inline style and SVG, no script, no fetches.

use axum::http::StatusCode;
use axum::response::Response;

use crate::html::{self, ConsentForm, escape};
use crate::qr_art;

pub(crate) fn qr_page(form: &ConsentForm<'_>) -> Response {
    // Each login shows its own pattern, as each real QR code encodes its own session.
    let seed = format!(
        "{}\n{}\n{}",
        form.appid,
        form.redirect_uri,
        form.state.unwrap_or_default()
    );
    // "Scan and confirm" comes first in the markup so pressing Enter in the user field
    // logs in; the relative action keeps working under a nesting prefix.
    let body = format!(
        "<main class=\"sheet qr\">\n\
         <div class=\"app\"><span class=\"logo\">W</span><span>{appid}</span></div>\n\
         <h1>微信登录</h1>\n\
         <p>请使用微信扫描二维码登录<br>Scan with WeChat to log in</p>\n\
         <div class=\"qrcode\">{qr}</div>\n\
         <form method=\"get\" action=\"qrconnect/confirm\">\n{fields}\
         <label>WeChat user (simulator)\
         <input type=\"text\" name=\"sim_user\" value=\"{user}\" autocomplete=\"off\"></label>\n\
         <p class=\"hint\">模拟器：下面的按钮代替手机上的扫码与确认<br>\
         Simulator: these buttons stand in for the phone.</p>\n\
         <div class=\"buttons\">\n\
         <button type=\"submit\" name=\"decision\" value=\"allow\" class=\"allow\">扫码并确认登录 Scan &amp; confirm</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"deny\">拒绝 Deny</button>\n\
         </div>\n</form>\n</main>",
        appid = escape(form.appid),
        qr = qr_art::svg(&seed),
        fields = form.hidden_fields(),
        user = escape(form.sim_user),
    );
    html::html_response(StatusCode::OK, html::page("微信登录", &body))
}

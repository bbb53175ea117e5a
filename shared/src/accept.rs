//! Content negotiation for error pages: browsers get HTML, API clients JSON.

/// Whether the `Accept` header prefers `text/html` over `application/json`. Ties go to the
/// type listed first; no header means JSON.
pub fn prefers_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let mut html: Option<(f32, usize)> = None;
    let mut json: Option<(f32, usize)> = None;
    for (position, item) in accept.split(',').enumerate() {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let slot = match media.as_str() {
            "text/html" => &mut html,
            "application/json" => &mut json,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some((q, position));
        }
    }
    match (html, json) {
        (Some((hq, _)), None) => hq > 0.0,
        (Some((hq, hp)), Some((jq, jp))) => hq > jq || (hq == jq && hq > 0.0 && hp < jp),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::prefers_html;

    #[test]
    fn browsers_get_html_and_apis_get_json() {
        assert!(prefers_html(Some(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(prefers_html(Some("application/json;q=0.5, text/html")));
        assert!(!prefers_html(Some("application/json")));
        assert!(!prefers_html(Some("application/json, text/html")));
        assert!(!prefers_html(Some("*/*")));
        assert!(!prefers_html(Some("text/html;q=0")));
        assert!(!prefers_html(None));
        assert!(!prefers_html(Some("")));
    }
}

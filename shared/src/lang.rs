//! The language of the pages a visitor sees: Simplified Chinese or English, chosen from
//! `Accept-Language` (WeChat's in-app browser sends `zh-CN`). JSON bodies stay English: they
//! are read by programs and their operators.

/// A page language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// Also for a visitor whose browser names no language we have.
    #[default]
    En,
    ZhCn,
}

impl Lang {
    /// The visitor's preferred language among ours: the highest `q` (ties: the first
    /// listed), `zh` of any region reading Simplified Chinese. `q=0` means "not this one".
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.unwrap_or("").split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite() && (0.0..=1.0).contains(q));
            let lang = match tag.split('-').next() {
                Some("zh") => Lang::ZhCn,
                Some("en") => Lang::En,
                _ => continue,
            };
            match q {
                Some(q) if q > 0.0 && best.is_none_or(|(b, _)| q > b) => best = Some((q, lang)),
                _ => {}
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// The value of `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Self::En => en,
            Self::ZhCn => zh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_supported_language_wins() {
        let cases = [
            (None, Lang::En),
            (Some(""), Lang::En),
            (Some("zh-CN"), Lang::ZhCn),
            // WeChat on iOS.
            (Some("zh-CN,zh-Hans;q=0.9"), Lang::ZhCn),
            (Some("zh-TW,zh;q=0.9,en;q=0.8"), Lang::ZhCn),
            (Some("en-US,en;q=0.9,zh-CN;q=0.8"), Lang::En),
            (Some("fr-FR,fr;q=0.9,zh-CN;q=0.5"), Lang::ZhCn),
            (Some("fr-FR,de"), Lang::En),
            (Some("en;q=0.5,zh-CN;q=0.8"), Lang::ZhCn),
            (Some("zh-CN;q=0,en"), Lang::En),
            (Some("zh-CN;q=0"), Lang::En),
            (Some("ZH-cn"), Lang::ZhCn),
            (Some("zh-CN;q=abc,en;q=0.1"), Lang::En),
            (Some("zh-CN;q=2,en;q=0.1"), Lang::En),
            (Some(";;,,q=1"), Lang::En),
            (Some("*"), Lang::En),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::from_accept_language(header), want, "{header:?}");
        }
    }
}

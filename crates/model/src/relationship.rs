//! Relationships: a target served by a provider, for a service, with evidence.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::SharedStr;

/// What a provider does for a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    /// Servers the web site runs on (IP/ASN, CNAME into a hosting product).
    Hosting,
    /// A content delivery network in front of the site.
    Cdn,
    /// Authoritative DNS hosting (NS).
    Dns,
    /// Inbound mail hosting (MX).
    Email,
    /// A third party allowed to send mail for the domain (SPF include).
    EmailSending,
    /// The domain's registrar.
    Registrar,
    /// The certificate authority that issued the web certificate.
    Certificate,
    /// A web application firewall / DDoS protection in front of the site.
    Waf,
    /// A third-party resource the page loads.
    Embed,
    /// A hyperlink only.
    Link,
}

impl Service {
    /// Every service, in display order.
    pub const ALL: [Self; 10] = [
        Self::Hosting,
        Self::Cdn,
        Self::Dns,
        Self::Email,
        Self::EmailSending,
        Self::Registrar,
        Self::Certificate,
        Self::Waf,
        Self::Embed,
        Self::Link,
    ];

    /// The kebab-case spelling used in JSON, the catalog and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hosting => "hosting",
            Self::Cdn => "cdn",
            Self::Dns => "dns",
            Self::Email => "email",
            Self::EmailSending => "email-sending",
            Self::Registrar => "registrar",
            Self::Certificate => "certificate",
            Self::Waf => "waf",
            Self::Embed => "embed",
            Self::Link => "link",
        }
    }

    /// The strength a relationship of this service has.
    pub fn strength(self) -> Strength {
        match self {
            Self::Embed => Strength::Embed,
            Self::Link => Strength::Link,
            _ => Strength::Contract,
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Service {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown service {s:?}"))
    }
}

/// What kind of third-party resource an embed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmbedKind {
    /// Visitor analytics.
    Analytics,
    /// Tag managers that load other tags.
    TagManager,
    /// Web fonts.
    Fonts,
    /// Social widgets and pixels.
    Social,
    /// Public JavaScript/CSS library CDNs.
    JsLibrary,
    /// Embedded video players.
    Video,
    /// Maps.
    Maps,
    /// CAPTCHA and bot challenges.
    Captcha,
    /// Advertising.
    Ads,
    /// Chat and support widgets.
    Chat,
    /// Anything else.
    Other,
}

impl EmbedKind {
    /// Every embed kind.
    pub const ALL: [Self; 11] = [
        Self::Analytics,
        Self::TagManager,
        Self::Fonts,
        Self::Social,
        Self::JsLibrary,
        Self::Video,
        Self::Maps,
        Self::Captcha,
        Self::Ads,
        Self::Chat,
        Self::Other,
    ];

    /// The kebab-case spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Analytics => "analytics",
            Self::TagManager => "tag-manager",
            Self::Fonts => "fonts",
            Self::Social => "social",
            Self::JsLibrary => "js-library",
            Self::Video => "video",
            Self::Maps => "maps",
            Self::Captcha => "captcha",
            Self::Ads => "ads",
            Self::Chat => "chat",
            Self::Other => "other",
        }
    }
}

impl std::fmt::Display for EmbedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EmbedKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown embed kind {s:?}"))
    }
}

/// How binding a relationship is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strength {
    /// A service the target must sign up for.
    Contract,
    /// The page loads a third party's resource.
    Embed,
    /// Only a hyperlink.
    Link,
}

impl Strength {
    /// The kebab-case spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contract => "contract",
            Self::Embed => "embed",
            Self::Link => "link",
        }
    }
}

impl std::fmt::Display for Strength {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The provider side of a relationship.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProviderRef {
    /// Lowercase slug of the ultimate parent company (`amazon`).
    pub id: String,
    /// The product or brand (`Amazon CloudFront`, `GeoTrust`).
    pub name: String,
    /// The parent's legal name (`Amazon.com, Inc.`).
    pub parent: String,
    /// The parent's home country, ISO 3166-1 alpha-2.
    pub country: String,
}

/// One piece of evidence behind a relationship.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What kind of observation it came from (`dns:A`, `dns:MX`, `spf`, `tls`, `http`,
    /// `html`, `rdap`, `netdb`).
    pub observation: SharedStr,
    /// The host the observation was about.
    pub host: SharedStr,
    /// The observed value that matched (an IP, a CNAME, a header, a URL).
    pub value: String,
    /// The catalog rule that matched (`cname-suffix cloudfront.net`, `asn 16509`).
    pub rule: SharedStr,
    /// The public source of the rule.
    pub source: SharedStr,
    /// When the observation was made.
    #[serde(with = "crate::ts")]
    pub at: crate::Timestamp,
}

/// A target served by a provider for a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relationship {
    /// The scan that found it.
    pub scan_id: i64,
    /// The target domain.
    pub target: SharedStr,
    /// The watchlist entity owning the target, if any.
    pub entity: Option<SharedStr>,
    /// The service.
    pub service: Service,
    /// For embeds, the kind of embed.
    pub embed_kind: Option<EmbedKind>,
    /// Contract, embed or link.
    pub strength: Strength,
    /// The provider (shared with the catalog entry it came from).
    pub provider: Arc<ProviderRef>,
    /// How sure the attribution is, 0..1.
    pub confidence: f64,
    /// Every signal behind the claim, including disagreeing ones.
    pub evidence: Vec<Evidence>,
}

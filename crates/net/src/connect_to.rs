//! Curl-like `--connect-to FROM=TO` rules.
//!
//! FROM is `*`, an IP address or a CIDR, each with an optional `:PORT` (IPv6 in
//! brackets: `[2001:db8::1]:443`); TO is `IP:PORT`. The most specific matching rule
//! wins: an exact address before a CIDR (longest prefix first) before `*`, and within
//! each, a rule with a port before one without.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use crate::OptionError;

/// What a rule matches on the address side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromSpec {
    /// Any address.
    Any,
    /// A range of addresses (an exact address is a /32 or /128).
    Net(IpNet),
}

/// One `--connect-to` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRule {
    /// The addresses it applies to.
    pub from: FromSpec,
    /// The port it applies to; `None` for any port.
    pub port: Option<u16>,
    /// Where to connect instead.
    pub to: SocketAddr,
}

impl ConnectRule {
    /// Specificity: higher wins.
    fn rank(&self) -> (u8, u8) {
        let prefix = match &self.from {
            FromSpec::Any => 0,
            FromSpec::Net(n) => {
                // An exact address outranks every CIDR of either family.
                let full = if n.addr().is_ipv4() { 32 } else { 128 };
                if n.prefix_len() == full {
                    200
                } else {
                    1 + n.prefix_len()
                }
            }
        };
        (prefix, u8::from(self.port.is_some()))
    }

    fn matches(&self, dest: SocketAddr) -> bool {
        if self.port.is_some_and(|p| p != dest.port()) {
            return false;
        }
        match &self.from {
            FromSpec::Any => true,
            FromSpec::Net(n) => n.contains(&dest.ip()),
        }
    }
}

impl std::str::FromStr for ConnectRule {
    type Err = OptionError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| OptionError::ConnectTo {
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let (from, to) = value
            .split_once('=')
            .ok_or_else(|| bad("expected FROM=TO, e.g. '*:443=127.0.0.1:8443'"))?;
        let to: SocketAddr = to
            .trim()
            .parse()
            .map_err(|_| bad("TO must be IP:PORT, e.g. 127.0.0.1:8443 or [::1]:8443"))?;
        let (host, port) = split_host_port(from.trim()).map_err(|r| bad(&r))?;
        let from = if host == "*" {
            FromSpec::Any
        } else {
            FromSpec::Net(crate::parse_cidr(host).map_err(|_| {
                bad("FROM must be '*', an IP address or a CIDR, with an optional :PORT")
            })?)
        };
        Ok(Self { from, port, to })
    }
}

fn split_host_port(s: &str) -> Result<(&str, Option<u16>), String> {
    let parse_port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| format!("bad port {p:?} in FROM"))
    };
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed '[' in FROM".to_string())?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((host, Some(parse_port(p)?))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(format!("unexpected {after:?} after ']' in FROM")),
        };
    }
    // One colon: host:port (IPv4, CIDR or *). More: a bare IPv6 address or CIDR.
    match s.matches(':').count() {
        1 => {
            let (h, p) = s.split_once(':').unwrap_or((s, ""));
            Ok((h, Some(parse_port(p)?)))
        }
        _ => Ok((s, None)),
    }
}

/// The set of `--connect-to` rules.
#[derive(Debug, Clone, Default)]
pub struct ConnectTo {
    rules: Vec<ConnectRule>,
}

impl ConnectTo {
    /// Builds the rule set; order of `rules` does not matter.
    pub fn new(mut rules: Vec<ConnectRule>) -> Self {
        // Stable sort keeps the first-given rule first among equals.
        rules.sort_by_key(|r| std::cmp::Reverse(r.rank()));
        Self { rules }
    }

    /// Parses a list of `FROM=TO` strings.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<Self, OptionError> {
        values
            .iter()
            .map(|v| v.as_ref().parse())
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
    }

    /// The rules, most specific first.
    pub fn rules(&self) -> &[ConnectRule] {
        &self.rules
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The address to dial for `dest`.
    pub fn rewrite(&self, dest: SocketAddr) -> SocketAddr {
        self.rules
            .iter()
            .find(|r| r.matches(dest))
            .map_or(dest, |r| r.to)
    }

    /// Every destination a rule can send traffic to.
    pub fn destinations(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.rules.iter().map(|r| r.to.ip())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn most_specific_rule_wins() {
        let ct = ConnectTo::parse(&[
            "*=127.0.0.1:1",
            "*:443=127.0.0.1:2",
            "93.184.0.0/16=127.0.0.1:3",
            "93.184.216.0/24:443=127.0.0.1:4",
            "93.184.216.34=127.0.0.1:5",
            "93.184.216.34:443=127.0.0.1:6",
        ])
        .unwrap();
        assert_eq!(ct.rewrite(sa("93.184.216.34:443")), sa("127.0.0.1:6"));
        assert_eq!(ct.rewrite(sa("93.184.216.34:80")), sa("127.0.0.1:5"));
        assert_eq!(ct.rewrite(sa("93.184.216.35:443")), sa("127.0.0.1:4"));
        assert_eq!(ct.rewrite(sa("93.184.1.1:80")), sa("127.0.0.1:3"));
        assert_eq!(ct.rewrite(sa("8.8.8.8:443")), sa("127.0.0.1:2"));
        assert_eq!(ct.rewrite(sa("8.8.8.8:53")), sa("127.0.0.1:1"));
    }

    #[test]
    fn no_rule_keeps_destination() {
        let ct = ConnectTo::parse(&["*:443=127.0.0.1:8443"]).unwrap();
        assert_eq!(ct.rewrite(sa("1.2.3.4:80")), sa("1.2.3.4:80"));
    }

    #[test]
    fn ipv6_forms() {
        let ct = ConnectTo::parse(&["[2001:db8::1]:443=[::1]:8443", "2001:db8::/32=127.0.0.1:9"])
            .unwrap();
        assert_eq!(ct.rewrite(sa("[2001:db8::1]:443")), sa("[::1]:8443"));
        assert_eq!(ct.rewrite(sa("[2001:db8::2]:443")), sa("127.0.0.1:9"));
    }

    #[test]
    fn bad_values_are_explained() {
        for bad in [
            "nonsense",
            "*:443=localhost:80",
            "1.2.3:443=127.0.0.1:1",
            "*:99999=127.0.0.1:1",
        ] {
            let e = bad.parse::<ConnectRule>().unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }
}

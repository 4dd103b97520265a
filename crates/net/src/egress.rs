//! The egress scope: which destinations may be dialed at all.
//!
//! `--allow-egress` (when given) is an allow-list; `--deny-egress` always wins. With
//! no allow-list, special-purpose ranges (loopback, private, link-local, CGNAT,
//! multicast, documentation, …) are refused so that a hostile DNS answer or redirect
//! cannot steer the scanner into the user's own network — except for destinations the
//! user configured explicitly (nameservers, the RDAP server, `--connect-to` targets),
//! which are registered as exemptions.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// A destination refused by the egress policy; nothing was sent to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("destination {addr} is outside the egress scope ({reason})")]
pub struct Blocked {
    /// The address that would have been dialed.
    pub addr: SocketAddr,
    /// Why it was refused.
    pub reason: &'static str,
}

/// Which destinations may be dialed.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
    exempt: Vec<IpAddr>,
    allow_special: bool,
}

impl EgressPolicy {
    /// A policy that allows every public destination and refuses special-purpose ranges.
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy that allows everything (for tests of other features only).
    pub fn unrestricted() -> Self {
        Self {
            allow_special: true,
            ..Self::default()
        }
    }

    /// Adds an allowed range; once any is given, everything else is refused.
    pub fn allow(mut self, net: IpNet) -> Self {
        self.allow.push(net);
        self
    }

    /// Adds a refused range; it wins over every allowed range and exemption.
    pub fn deny(mut self, net: IpNet) -> Self {
        self.deny.push(net);
        self
    }

    /// Exempts an explicitly configured destination (a nameserver, the RDAP server, a
    /// `--connect-to` target) from the default refusal of special-purpose ranges.
    pub fn exempt(mut self, ip: IpAddr) -> Self {
        if !self.exempt.contains(&ip) {
            self.exempt.push(ip);
        }
        self
    }

    /// The allowed ranges.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allow
    }

    /// Checks a destination.
    pub fn check(&self, addr: SocketAddr) -> Result<(), Blocked> {
        let ip = canonical(addr.ip());
        if self.deny.iter().any(|n| n.contains(&ip)) {
            return Err(Blocked {
                addr,
                reason: "in a --deny-egress range",
            });
        }
        if !self.allow.is_empty() {
            return if self.allow.iter().any(|n| n.contains(&ip)) {
                Ok(())
            } else {
                Err(Blocked {
                    addr,
                    reason: "not in any --allow-egress range",
                })
            };
        }
        self.check_special(addr)
    }

    /// The default refusal alone: with no allow-list, a special-purpose address that is
    /// not an exemption is refused.
    pub fn check_special(&self, addr: SocketAddr) -> Result<(), Blocked> {
        let ip = canonical(addr.ip());
        if self.allow.is_empty()
            && !self.allow_special
            && is_special_purpose(ip)
            && !self.exempt.contains(&ip)
        {
            return Err(Blocked {
                addr,
                reason: "special-purpose address refused by default; use --allow-egress",
            });
        }
        Ok(())
    }
}

/// Maps IPv4-mapped IPv6 addresses to IPv4 so both spellings meet the same rules.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` is in a special-purpose range (RFC 6890 and successors) that a scan of
/// public infrastructure has no business dialing.
pub fn is_special_purpose(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10 shared address space
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24 IETF assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15 benchmarking
        || o[0] >= 240 // 240.0.0.0/4 reserved
}

fn special_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // 2001:db8::/32 documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b) // 64:ff9b::/96 NAT64 (embeds any IPv4)
        || (s[0] == 0x2002) // 6to4 (embeds any IPv4)
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // 100::/64 discard
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allow_list_is_exclusive() {
        let p = EgressPolicy::new().allow("127.0.0.0/8".parse().unwrap());
        assert!(p.check(sa("127.0.0.1:53")).is_ok());
        assert!(p.check(sa("93.184.216.34:443")).is_err());
        assert!(p.check(sa("[::ffff:127.0.0.1]:80")).is_ok());
    }

    #[test]
    fn deny_wins() {
        let p = EgressPolicy::new()
            .allow("127.0.0.0/8".parse().unwrap())
            .deny("127.0.0.2/32".parse().unwrap())
            .exempt("127.0.0.2".parse().unwrap());
        assert!(p.check(sa("127.0.0.2:53")).is_err());
        assert!(p.check(sa("127.0.0.3:53")).is_ok());
    }

    #[test]
    fn special_ranges_refused_by_default_unless_exempt() {
        let p = EgressPolicy::new().exempt("127.0.0.1".parse().unwrap());
        for bad in [
            "10.1.2.3:80",
            "192.168.1.1:80",
            "169.254.169.254:80",
            "127.0.0.2:80",
            "[::1]:80",
            "[fe80::1]:80",
            "[fd00::1]:80",
            "100.64.0.1:80",
            "[::ffff:10.0.0.1]:80",
            "0.0.0.0:80",
        ] {
            assert!(p.check(sa(bad)).is_err(), "{bad} should be refused");
        }
        assert!(p.check(sa("127.0.0.1:53")).is_ok());
        assert!(p.check(sa("93.184.216.34:443")).is_ok());
    }
}

//! The record types servedby asks for.

use std::fmt;
use std::str::FromStr;

/// A DNS record type the resolver can look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Canonical name (alias).
    Cname,
    /// Authoritative nameserver.
    Ns,
    /// Mail exchanger.
    Mx,
    /// Text (SPF, verification tokens).
    Txt,
    /// Certification Authority Authorization.
    Caa,
    /// Start of authority.
    Soa,
    /// Pointer (reverse DNS).
    Ptr,
}

impl RecordType {
    /// Every supported type, in the order of the enum.
    pub const ALL: [Self; 9] = [
        Self::A,
        Self::Aaaa,
        Self::Cname,
        Self::Ns,
        Self::Mx,
        Self::Txt,
        Self::Caa,
        Self::Soa,
        Self::Ptr,
    ];

    /// The type's mnemonic (`A`, `AAAA`, `MX`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Cname => "CNAME",
            Self::Ns => "NS",
            Self::Mx => "MX",
            Self::Txt => "TXT",
            Self::Caa => "CAA",
            Self::Soa => "SOA",
            Self::Ptr => "PTR",
        }
    }

    /// The type's code on the wire.
    pub fn code(self) -> u16 {
        match self {
            Self::A => 1,
            Self::Ns => 2,
            Self::Cname => 5,
            Self::Soa => 6,
            Self::Ptr => 12,
            Self::Mx => 15,
            Self::Txt => 16,
            Self::Aaaa => 28,
            Self::Caa => 257,
        }
    }

    /// The type with this wire code, if supported.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record type name that servedby does not support.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown record type {0:?}: expected one of A, AAAA, CNAME, NS, MX, TXT, CAA, SOA, PTR")]
pub struct UnknownRecordType(pub String);

impl FromStr for RecordType {
    type Err = UnknownRecordType;

    /// Parses a mnemonic, case-insensitively (`a`, `Aaaa`, `MX`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownRecordType(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_round_trips() {
        for t in RecordType::ALL {
            assert_eq!(t.as_str().to_lowercase().parse::<RecordType>(), Ok(t));
            assert_eq!(t.to_string().parse::<RecordType>(), Ok(t));
            assert_eq!(RecordType::from_code(t.code()), Some(t));
        }
        assert_eq!(" aaaa ".parse::<RecordType>(), Ok(RecordType::Aaaa));
        assert!("SRV".parse::<RecordType>().is_err());
        assert!("".parse::<RecordType>().is_err());
        assert_eq!(RecordType::from_code(33), None);
    }
}

#!/usr/bin/env python3
"""Writes the hand-made seed inputs of every fuzz target into fuzz/seeds/<target>/.

All seed content below is written for servedby's fuzzing (no file is copied from
elsewhere). The seeds are committed; this script documents how the binary ones
(`html_extract` headers, `netdb_from_bytes`) were made and regenerates them:

    python3 fuzz/seeds/generate.py
"""

import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- html_extract ----------------------------------------------------------------
# Input: 8 header bytes (flags, six small limits, cut count), 2 bytes per cut, body.


def html(flags, limits, cuts, body):
    head = bytes([flags]) + bytes(limits) + bytes([len(cuts)])
    return head + b"".join(struct.pack("<H", c) for c in cuts) + body.encode("utf-8")


DEFAULTS = [0] * 6

PAGE = """<!DOCTYPE html>
<html lang=en><head>
<meta charset="utf-8">
<title>  Example   shop &amp; caf&eacute; </title>
<meta name="generator" content="WordPress 6.5">
<meta name=GENERATOR content='Site   Kit'>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter&amp;display=swap">
<link rel="preconnect dns-prefetch" href="//fonts.gstatic.com">
<link rel=icon href=/favicon.ico>
<link rel="canonical" href="https://example.com/">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABCDEF1234"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  gtag('config', 'G-ABCDEF1234'); gtag('config', 'UA-1234567-2');
  (function(w,d,s,l,i){ /* GTM-ABC12D */ })(window,document,'script','dataLayer','GTM-ABC12D');
  var a = "</scr" + "ipt>"; if (1 < 2 && a) {}
</script>
<script src="https://hm.baidu.com/hm.js?0123456789abcdef0123456789abcdef"></script>
<style>a[href="<img src=https://not-a-tag.example/x.png>"] { color: red }</style>
</head>
<body>
<!-- <script src="https://commented-out.example/x.js"></script> -->
<img src="https://cdn.example.net/logo.png" srcset="https://img1.example.net/a.png 1x, https://img2.example.net/a.png 2x">
<iframe src="https://www.youtube-nocookie.com/embed/abc" title="<b>"></iframe>
<video poster=https://media.example.org/p.jpg><source src="https://media.example.org/v.mp4"></video>
<audio src=//audio.example.org/a.mp3></audio>
<embed src="https://embed.example.org/e.swf"><object data="https://obj.example.org/o"></object>
<a href="https://twitter.example/share?u=https%3A%2F%2Fexample.com">share</a>
<a href="javascript:alert(1)">x</a> <a href="data:text/html,<script>">y</a>
<a href="mailto:someone@example.com">mail</a> <a HREF="HTTPS://UPPER.EXAMPLE.COM:443/Path">up</a>
<a href="https://b&uuml;cher.example/">idn</a> <a href="http://[2001:db8::2]:8443/v6">v6</a>
<a href="https://user:pw@auth.example/../x/./y?q=a b#frag">odd</a>
<form action="https://forms.example.com/submit" method=post><textarea><script src="https://in-textarea.example/x.js"></script></textarea></form>
<a href=relative/path>rel</a> <a href="?only=query">q</a> <a href="#frag">f</a>
</body></html>
"""

write("html_extract", "page-default", html(0x00, DEFAULTS, [], PAGE))
write("html_extract", "page-cut-small-limits", html(0x01, [3, 4, 40, 1, 1, 8], [5, 17, 400, 401, 402, 1300], PAGE))
write("html_extract", "page-ipv6-host", html(0x04, DEFAULTS, [100, 900], PAGE))
write("html_extract", "page-no-host", html(0x08, DEFAULTS, [1], PAGE))
write("html_extract", "page-data-url", html(0x0a, DEFAULTS, [], PAGE))

BASE = """<html><head><base href="https://static.example-cdn.com/assets/"><base href="https://ignored.example/">
<script src=app.js></script><link rel=stylesheet href="../css/site.css">
<img src="/img/a.png"><a href=//other.example/x>x</a></head></html>"""
write("html_extract", "base-href", html(0x00, DEFAULTS, [30, 31, 32], BASE))

TRICKY = """<!--><script src="https://after-empty-comment.example/a.js"></script>
<!---><img src=https://after-short-comment.example/b.png>
<![CDATA[ <img src=https://cdata.example/c.png> ]]>
<?php echo "<script src=https://pi.example/d.js>"; ?>
<title>first</title><title>second</title>
<script type="text/template"><img src="https://template.example/e.png"></script >
<SCRIPT SRC='https://upper.example/f.js'></SCRIPT><xmp><img src=https://xmp.example/g.png></xmp>
<noembed><img src=https://noembed.example/h.png></noembed><plaintext>
<img src = "https://spaced-attr.example/i.png" / >
<img src="https://entity.example/j.png?a=1&amp;b=2&#x26;c=3&lt;">
<a href="  https://padded.example/k  ">k</a>
<img src=https://unterminated.example/l.png
"""
write("html_extract", "tricky-tokens", html(0x00, DEFAULTS, [3, 4, 5, 6, 7, 60, 61, 62], TRICKY))

DEEP = "<div>" * 300 + "<a href=https://deep.example/>" + "</div>" * 300
write("html_extract", "deep-nesting", html(0x00, DEFAULTS, [1500], DEEP))

# A plain document with no header structure at all (short: whole input is the body).
write("html_extract", "tiny", "<a href=x>")


# --- spf_parse -------------------------------------------------------------------

SPF = [
    "v=spf1 -all",
    "v=spf1 include:_spf.example.com include:spf.mail.example.net ~all",
    "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 ip6:2001:db8::/32 ip6:::1 -all",
    "v=spf1 a mx a:mail.example.org/28 mx:mx.example.org//64 a/24//48 ptr ?all",
    "v=spf1 exists:%{i}.%{l1r+-}._spf.%{d} redirect=_spf.example.com",
    "V=SPF1 +INCLUDE:Example.COM  \t -ALL exp=explain.%{d2}",
    "v=spf1 ra=postmaster rp=100 rr=all:e unknown-mod= ~all",
    "v=spf1 include: -all",
    "v=spf1 ip4:256.0.0.1/33 ip6:zz::/129",
    "v=spf1 redirect=a.example redirect=b.example",
    "v=spf10 include:not-spf.example",
    "v=spf1",
    "v=spf1 include:%{ir}.%{v}.%{d}.spf.has.pphosted.example %%%_%- ~all",
]
for i, s in enumerate(SPF):
    write("spf_parse", f"record-{i:02}", s)


# --- rdap_parse ------------------------------------------------------------------

RDAP_DOMAIN = """{
  "rdapConformance": ["rdap_level_0", "redacted"],
  "objectClassName": "domain",
  "handle": "1234_DOMAIN_EXAMPLE",
  "ldhName": "EXAMPLE-SHOP.COM.",
  "unicodeName": "example-shop.com",
  "status": ["client transfer prohibited", "active"],
  "events": [
    {"eventAction": "registration", "eventDate": "2001-02-03T04:05:06Z"},
    {"eventAction": "expiration", "eventDate": "2031-02-03T04:05:06Z"},
    {"eventAction": "last update of RDAP database", "eventDate": "2026-01-01T00:00:00Z"}
  ],
  "nameservers": [
    {"objectClassName": "nameserver", "ldhName": "NS1.DNS-HOST.EXAMPLE"},
    {"objectClassName": "nameserver", "ldhName": "ns2.dns-host.example."},
    {"objectClassName": "nameserver", "unicodeName": "ns1.dns-host.example"}
  ],
  "entities": [
    {"objectClassName": "entity", "roles": ["registrar"],
     "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}],
     "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Example Registrar, LLC"]]],
     "entities": [{"objectClassName": "entity", "roles": ["abuse"],
                   "vcardArray": ["vcard", [["fn", {}, "text", "Abuse Desk"]]]}]},
    {"objectClassName": "entity", "roles": ["Registrant"],
     "vcardArray": ["vcard", [["org", {}, "text", ["", "Example Shop GmbH"]], ["fn", {}, "text", "REDACTED FOR PRIVACY"]]]}
  ],
  "redacted": [{"name": {"type": "Registrant Name"}, "method": "removal"}]
}"""
write("rdap_parse", "domain", RDAP_DOMAIN)
write("rdap_parse", "domain-redacted-org", """{"objectClassName":"domain","ldhName":"x.example",
"entities":[{"roles":["registrant"],"vcardArray":["vcard",[["org",{},"text","Data Protected"]]]},
{"roles":["registrar"],"publicIds":[{"type":"IANA Registrar ID","identifier":146}],
"vcardArray":["vcard",[["org",{},"text","Some Registrar"]]]}],
"redacted":[{"name":{"description":"Registrant Organization"}}]}""")
write("rdap_parse", "error", '{"errorCode": 404, "title": "Not Found", "description": ["no such domain"]}')
write("rdap_parse", "entity", '{"objectClassName": "entity", "handle": "X"}')
write("rdap_parse", "nameless", '{"status": ["active"]}')
write("rdap_parse", "bootstrap", """{
  "version": "1.0",
  "publication": "2026-01-01T00:00:00Z",
  "description": "RDAP bootstrap file for the fuzzer",
  "services": [
    [["com", "net"], ["https://rdap.registry-one.example/v1/", "http://rdap.registry-one.example/v1/"]],
    [["Example", ".org."], ["http://rdap.registry-two.example/rdap"]],
    [["co.uk"], ["not a url", "https://rdap.registry-three.example/uk/?x=1#f"]],
    [["bad"], ["mailto:nobody@example"]],
    [[], []]
  ]
}""")
write("rdap_parse", "not-json", "{\"objectClassName\": \"domain\", ")


# --- catalog_load ----------------------------------------------------------------

CATALOG = """# A catalog file for the fuzzer: one of every rule kind.
[parent]
id = "fuzz"
name = "Fuzz Holdings, Inc."
country = "US"
source = "https://fuzz.example/about"

[[provider]]
name = "Fuzz CDN"
services = ["cdn", "waf"]
note = "made up for fuzzing"
rules = [
  { kind = "asn", value = "64500", source = "https://fuzz.example/asn" },
  { kind = "ip-prefix", value = "192.0.2.0/24", source = "https://fuzz.example/ip" },
  { kind = "ip-prefix", value = "2001:db8:1::/48", source = "https://fuzz.example/ip" },
  { kind = "cname-suffix", value = "fuzzcdn.example", source = "https://fuzz.example/cname" },
  { kind = "cname-suffix", value = "edge*.fuzzcdn-wild.example", source = "https://fuzz.example/cname" },
  { kind = "header", value = "x-fuzz-cache", source = "https://fuzz.example/headers" },
  { kind = "header", value = "server: FuzzServer", source = "https://fuzz.example/headers", service = "waf" },
]

[[provider]]
name = "Fuzz DNS & Mail"
services = ["dns", "email", "email-sending"]
rules = [
  { kind = "ns-suffix", value = "NS.FuzzDNS.Example", source = "https://fuzz.example/ns" },
  { kind = "mx-suffix", value = "mx.fuzzmail.example", source = "https://fuzz.example/mx" },
  { kind = "spf-include", value = "_spf.fuzzmail.example", source = "https://fuzz.example/spf" },
]

[[provider]]
name = "Fuzz Analytics"
services = ["embed"]
rules = [
  { kind = "embed-host", value = "stats.fuzz.example", source = "https://fuzz.example/e", embed_kind = "analytics" },
  { kind = "embed-url", value = "fuzz.example/tag.js", source = "https://fuzz.example/e", embed_kind = "tag-manager" },
  { kind = "loader-id", value = "google-tag", source = "https://fuzz.example/e", embed_kind = "analytics" },
]

[[provider]]
name = "Fuzz Trust"
services = ["certificate", "registrar"]
rules = [
  { kind = "cert-issuer", value = "Fuzz Trust CA", source = "https://fuzz.example/ca" },
  { kind = "registrar", value = "Fuzz Names", source = "https://fuzz.example/reg" },
  { kind = "registrar-iana", value = "99999", source = "https://fuzz.example/reg" },
]
"""
write("catalog_load", "all-kinds", CATALOG)
write("catalog_load", "minimal", """[parent]
id = "fuzz"
name = "F"
country = "DE"
source = "https://f.example/"
[[provider]]
name = "P"
services = ["hosting"]
rules = [{ kind = "asn", value = "1", source = "http://f.example/" }]
""")
write("catalog_load", "errors", """[parent]
id = "Not-Fuzz"
name = ""
country = "usa"
source = "ftp://x"
[[provider]]
name = "A"
services = ["cdn", "cdn"]
rules = [
  { kind = "cert-issuer", value = "R3", source = "https://x.example/" },
  { kind = "embed-host", value = "x.example", source = "https://x.example/" },
  { kind = "ip-prefix", value = "10.0.0.1/8", source = "https://x.example/" },
  { kind = "asn", value = "AS12x", source = "" },
]
[[provider]]
name = "A"
services = ["cdn"]
rules = []
""")
write("catalog_load", "syntax-error", "[parent\nid = fuzz\n")


# --- watchlist_load --------------------------------------------------------------

WATCHLIST = """[meta]
name = "fuzz"
version = "2026-01-02"
description = "A watchlist for the fuzzer."

[[entity]]
id = "parent-co"
name = "Parent Company Ltd."
aliases = ["Parent", "母公司"]
country = "CN"
domains = ["parent.example", "Parent-Group.EXAMPLE.", "母公司.example"]
lists = [
  { list = "entity-list", date = "2020-05-06", citation = "85 FR 00000" },
  { list = "sdn" },
]
sources = ["https://lists.example/parent"]

[[entity]]
id = "child-co"
name = "Child Company"
parent = "parent-co"
subsidiaries = ["Grandchild"]
domains = ["child.parent.example", "child.example"]
lists = [{ list = "ns-cmic", date = "2021-06-03" }]
sources = ["http://lists.example/child"]
note = "listed under its parent's domain"
"""
write("watchlist_load", "valid", WATCHLIST)
write("watchlist_load", "errors", """[meta]
name = "bad"
version = "x"

[[entity]]
id = "Bad Id"
name = ""
country = "China"
parent = "nobody"
domains = ["192.0.2.1", "-x.example", "dup.example", "dup.example"]
lists = [{ list = "no-such-list", date = "2020-13-45" }]
sources = ["file:///etc/passwd"]

[[entity]]
id = "loop-a"
name = "A"
parent = "loop-b"
[[entity]]
id = "loop-b"
name = "B"
parent = "loop-a"
""")
write("watchlist_load", "syntax-error", "[meta\nname = \n")


# --- csl_import ------------------------------------------------------------------

CSL_JSON = """{"total": 3, "results": [
 {"name": "Example Optics Co., Ltd.", "alt_names": ["Example Optics", "EO"],
  "source": "Entity List (EL) - Bureau of Industry and Security", "entity_number": null,
  "start_date": "2019-10-09", "federal_register_notice": "84 FR 00001",
  "addresses": [{"address": "1 Road", "city": "Hangzhou", "country": "CN"}],
  "ids": [{"type": "Website", "number": "https://www.example-optics.example/en/"}],
  "remarks": "Website: optics-group.example", "source_list_url": "https://lists.example/el"},
 {"name": "Example Optics Co., Ltd.", "source": "Military End User (MEU) List - Bureau of Industry and Security",
  "start_date": "2020-12-23T00:00:00", "addresses": [{"country": "CN"}]},
 {"name": "Someone Else", "alt_names": "A; B", "source": "Specially Designated Nationals (SDN) - Treasury Department",
  "ids": "see www.someone-else.example, http://[::1]/x", "start_date": "not a date"}
]}"""
write("csl_import", "results.json", CSL_JSON)
write("csl_import", "bare-array.json", '[{"name": "Only Name"}, {"name": 42, "source": ["x"]}]')
CSL_CSV = """_id,source,entity_number,type,programs,name,title,addresses,federal_register_notice,start_date,end_date,standard_order,license_requirement,license_policy,call_sign,vessel_type,gross_tonnage,gross_registered_tonnage,vessel_flag,vessel_owner,remarks,source_list_url,alt_names,citizenships,dates_of_birth,nationalities,places_of_birth,source_information_url,ids
1,Entity List (EL) - Bureau of Industry and Security,,Entity,,"Example Optics Co., Ltd.",,"1 Road, Hangzhou, CN; 2 Street, Shenzhen, CN",84 FR 00001,2019-10-09,,,,,,,,,,,"Website: optics-group.example",https://lists.example/el,"Example Optics; EO",,,,,,"Website, https://www.example-optics.example"
2,"Nonproliferation Sanctions (ISN) - State Department",,Entity,,"Quoted ""Name"" Inc.",,"Moscow, RU",,2021-01-01,,,,,,,,,,,,,,,,,,,
"""
write("csl_import", "export.csv", CSL_CSV)
write("csl_import", "unterminated.csv", 'name,source\n"never closed,x\n')


# --- netdb_from_bytes ------------------------------------------------------------
# Encoded by hand from the format description in crates/netdb/src/format.rs.


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def vstr(s):
    b = s.encode("utf-8")
    return varint(len(b)) + b


def v6delta(delta):
    high, low = delta >> 64, delta & ((1 << 64) - 1)
    if low:
        return varint(high << 1 | 1) + varint(low)
    return varint(high << 1)


def netdb(version, orgs, records, v4, v6):
    body = bytearray(b"SBNETDB\0") + struct.pack("<H", 1) + vstr(version)
    body += varint(len(orgs)) + b"".join(vstr(o) for o in orgs)
    body += varint(len(records)) + b"".join(varint(a) + varint(o) for a, o in records)
    body += varint(len(v4))
    prev = 0
    for start, value in v4:
        body += varint(start - prev) + varint(value)
        prev = start
    body += varint(len(v6))
    prev = 0
    for start, value in v6:
        body += v6delta(start - prev) + varint(value)
        prev = start
    return bytes(body) + struct.pack("<I", zlib.crc32(bytes(body)))


def ip4(a, b, c, d):
    return a << 24 | b << 16 | c << 8 | d


write("netdb_from_bytes", "small", netdb(
    "fuzz-seed 1 2026-01-01",
    ["EXAMPLE-NET", "DOC-RANGES"],
    [(64500, 0), (64501, 1)],
    [(ip4(192, 0, 2, 0), 1), (ip4(192, 0, 3, 0), 0), (ip4(198, 51, 100, 0), 2), (ip4(198, 51, 100, 128), 0)],
    [(0x20010DB8 << 96, 2), (0x20010DB9 << 96, 0), ((0x20010DB9 << 96) + 5, 1), ((0x20010DB9 << 96) + 6, 0)],
))
write("netdb_from_bytes", "empty", netdb("empty", [], [], [], []))
write("netdb_from_bytes", "odd-range", netdb(
    "odd", [""], [(1, 0)], [(ip4(10, 0, 0, 0), 1), (ip4(10, 0, 3, 0), 0)], []))

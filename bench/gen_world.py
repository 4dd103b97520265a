#!/usr/bin/env python3
"""Generate the synthetic world for bench/run.sh: N domains served on loopback only.

Writes into --out:
  zones/*.zone      one zone per target domain (so NS/SOA are real apex answers) plus
                    provider zones (CDN CNAME targets, SPF includes) with wildcards
  knot.conf         knotd listening on 127.0.0.1:<dns-port> (+ 127.0.0.2:53 for adns);
                    authoritative only: no remotes, no notify, no transfers, no recursion
  nginx.conf        HTTP and HTTPS on 127.0.0.1 only; one server block per certificate
                    group (SNI picks the certificate); nothing is proxied
  www/              page templates (30-60 KB of realistic HTML) and RDAP answers
  certs/            test CAs with realistic issuer names, intermediates, leaf certificates
  lists/            target lists and DNS query lists for every tool

All public IPs below appear only inside DNS answers. They are never dialed: servedby
rewrites every connection to loopback (--connect-to) and refuses anything outside
127.0.0.0/8 (--allow-egress), and the peers are only ever given 127.0.0.1.
"""

import argparse
import gzip
import ipaddress
import os
import random
import sys

# --------------------------------------------------------------------------- data
# Hosting profiles: (name, weight, apex IPv4 ranges, IPv6 range or None, www CNAME
# target pattern or None). A CNAME pattern's {h} is a per-domain hash-like label.
HOSTING = [
    ("aws-ec2", 14, ["3.208.0.0/12", "52.0.0.0/11", "54.144.0.0/12"], "2600:1f18::/32", None),
    ("cloudfront", 10, ["13.32.0.0/15", "18.160.0.0/15"], "2600:9000::/28", "d{h}.cloudfront.net"),
    ("google-cloud", 8, ["34.64.0.0/10", "35.184.0.0/13"], None, None),
    ("azure", 7, ["20.36.0.0/14", "40.64.0.0/10"], None, "{n}.azureedge.net"),
    ("cloudflare", 14, ["104.16.0.0/13", "172.64.0.0/13"], "2606:4700::/32", None),
    ("akamai", 6, ["23.192.0.0/11"], None, "{n}.edgekey.net"),
    ("fastly", 5, ["151.101.0.0/16"], "2a04:4e42::/32", "{n}.map.fastly.net"),
    ("alibaba", 7, ["47.88.0.0/14", "8.208.0.0/12"], None, "{n}.w.kunlunsl.com"),
    ("tencent", 5, ["43.128.0.0/10", "119.28.0.0/15"], None, "{n}.cdn.dnsv1.com"),
    ("hetzner", 6, ["88.198.0.0/16", "116.202.0.0/15"], "2a01:4f8::/32", None),
    ("ovh", 5, ["51.68.0.0/16", "145.239.0.0/16"], None, None),
    ("digitalocean", 5, ["164.90.0.0/16", "134.209.0.0/16"], None, None),
    ("netlify", 4, ["75.2.60.0/24"], None, "{n}.netlify.app"),
    ("github-pages", 2, ["185.199.108.0/22"], None, "{n}.github.io"),
    ("shopify", 2, ["23.227.38.0/24"], None, "shops.myshopify.com"),
]

# Provider zones answering the CNAME targets above: (zone, records relative to it).
PROVIDER_ZONES = {
    "cloudfront.net": ["* A 13.32.121.{r}", "* AAAA 2600:9000:21f3::{r:x}"],
    "azureedge.net": ["* CNAME shed.dual-low.s-part-0017.t-0009.t-msedge.net."],
    "t-msedge.net": ["*.t-0009 A 13.107.246.{r}"],
    "edgekey.net": ["* CNAME e1234.a.akamaiedge.net."],
    "akamaiedge.net": ["*.a A 23.215.0.{r}"],
    "fastly.net": ["*.map A 151.101.1.{r}", "*.map AAAA 2a04:4e42::{r:x}"],
    "kunlunsl.com": ["*.w A 47.246.23.{r}"],
    "dnsv1.com": ["*.cdn A 43.152.12.{r}"],
    "netlify.app": ["* A 75.2.60.5"],
    "github.io": ["* A 185.199.108.153", "* A 185.199.109.153"],
    "myshopify.com": ["shops A 23.227.38.65"],
}

# DNS hosting: (name, weight, NS host patterns). {i} is a small number.
DNS_HOSTS = [
    ("route53", 14, ["ns-{i}.awsdns-{j}.com.", "ns-{k}.awsdns-{j}.net.", "ns-{l}.awsdns-{j}.org.", "ns-{m}.awsdns-{j}.co.uk."]),
    ("cloudflare", 18, ["{w1}.ns.cloudflare.com.", "{w2}.ns.cloudflare.com."]),
    ("godaddy", 12, ["ns{i2}.domaincontrol.com.", "ns{j2}.domaincontrol.com."]),
    ("alidns", 8, ["ns1.alidns.com.", "ns2.alidns.com."]),
    ("dnspod", 6, ["f1g1ns1.dnspod.net.", "f1g1ns2.dnspod.net."]),
    ("azure-dns", 6, ["ns1-0{d}.azure-dns.com.", "ns2-0{d}.azure-dns.net.", "ns3-0{d}.azure-dns.org.", "ns4-0{d}.azure-dns.info."]),
    ("google-dns", 6, ["ns-cloud-{c}1.googledomains.com.", "ns-cloud-{c}2.googledomains.com."]),
    ("ns1", 4, ["dns1.p0{d}.nsone.net.", "dns2.p0{d}.nsone.net."]),
    ("ultradns", 3, ["pdns{d}.ultradns.net.", "udns1.ultradns.net."]),
    ("akamai-dns", 3, ["a1-{i}.akam.net.", "a9-{i}.akam.net."]),
    ("self", 4, ["ns1.{z}.", "ns2.{z}."]),
]
CF_WORDS = ["ada", "bob", "cruz", "dana", "elle", "fred", "gina", "hugo", "ivan", "jill", "kurt", "lara", "mike", "nora"]

# Mail: (name, weight, MX records, SPF include it implies or None).
MAIL = [
    ("google", 20, ["1 aspmx.l.google.com.", "5 alt1.aspmx.l.google.com.", "5 alt2.aspmx.l.google.com.", "10 alt3.aspmx.l.google.com."], "_spf.google.com"),
    ("microsoft", 20, ["0 {dash}.mail.protection.outlook.com."], "spf.protection.outlook.com"),
    ("tencent", 6, ["5 mxbiz1.qq.com.", "10 mxbiz2.qq.com."], "spf.mail.qq.com"),
    ("alibaba", 6, ["5 mx1.qiye.aliyun.com.", "10 mx2.qiye.aliyun.com.", "15 mx3.qiye.aliyun.com."], "spf.qiye.aliyun.com"),
    ("zoho", 4, ["10 mx.zoho.com.", "20 mx2.zoho.com."], "zoho.com"),
    ("proofpoint", 4, ["10 mx0a-00{i}.pphosted.com.", "10 mx0b-00{i}.pphosted.com."], "_spf.pphosted.com"),
    ("mimecast", 4, ["10 eu-smtp-inbound-1.mimecast.com.", "10 eu-smtp-inbound-2.mimecast.com."], "_netblocks.mimecast.com"),
    ("self", 8, ["10 mail.{z}."], None),
    ("none", 10, [], None),
]
SENDERS = ["sendgrid.net", "mailgun.org", "amazonses.com", "spf.mandrillapp.com", "_spf.salesforce.com", "servers.mcsv.net"]

# TXT answers for the SPF includes (and their nested includes): zone -> {owner: spf}.
SPF_ZONES = {
    "google.com": {
        "_spf": "v=spf1 include:_netblocks.google.com include:_netblocks2.google.com include:_netblocks3.google.com ~all",
        "_netblocks": "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ip4:66.102.0.0/20 ip4:66.249.80.0/20 ip4:72.14.192.0/18 ip4:74.125.0.0/16 ip4:108.177.8.0/21 ip4:173.194.0.0/16 ip4:209.85.128.0/17 ip4:216.58.192.0/19 ip4:216.239.32.0/19 ~all",
        "_netblocks2": "v=spf1 ip6:2001:4860:4000::/36 ip6:2404:6800:4000::/36 ip6:2607:f8b0:4000::/36 ip6:2800:3f0:4000::/36 ip6:2a00:1450:4000::/36 ip6:2c0f:fb50:4000::/36 ~all",
        "_netblocks3": "v=spf1 ip4:172.217.0.0/19 ip4:172.217.32.0/20 ip4:172.217.128.0/19 ip4:108.177.96.0/19 ip4:35.191.0.0/16 ip4:130.211.0.0/22 ~all",
    },
    "outlook.com": {
        "spf.protection": "v=spf1 include:spfd.protection.outlook.com ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 ip4:52.102.0.0/16 ip4:104.47.0.0/17 ip6:2a01:111:f400::/48 ip6:2a01:111:f403::/49 -all",
        "spfd.protection": "v=spf1 ip4:51.4.72.0/24 ip4:51.5.72.0/24 ip4:51.5.80.0/27 ip4:20.47.149.138/32 ip4:51.4.80.0/27 ip6:2a01:4180:4051:0800::/64 -all",
    },
    "qq.com": {"spf.mail": "v=spf1 include:qq-a.mail.qq.com include:qq-b.mail.qq.com ~all",
               "qq-a.mail": "v=spf1 ip4:101.226.139.0/25 ip4:101.91.43.0/25 ip4:101.91.44.128/25 -all",
               "qq-b.mail": "v=spf1 ip4:203.205.251.0/24 ip4:103.7.29.0/24 ip4:59.36.128.0/24 -all"},
    "aliyun.com": {"spf.qiye": "v=spf1 ip4:115.124.16.0/22 ip4:121.197.128.0/18 ip4:140.205.0.0/20 -all"},
    "zoho.com": {"@": "v=spf1 include:transmail.net include:zcsend.net ~all"},
    "transmail.net": {"@": "v=spf1 ip4:136.143.188.0/24 ip4:135.84.80.0/24 ~all"},
    "zcsend.net": {"@": "v=spf1 ip4:136.143.184.0/24 ip4:204.141.32.0/23 ~all"},
    "pphosted.com": {"_spf": "v=spf1 ip4:148.163.128.0/19 ip4:205.220.160.0/20 ip4:67.231.144.0/20 -all"},
    "mimecast.com": {"_netblocks": "v=spf1 ip4:207.211.30.0/24 ip4:205.139.110.0/24 ip4:195.130.217.0/24 ~all"},
    "sendgrid.net": {"@": "v=spf1 ip4:167.89.0.0/17 ip4:208.117.48.0/20 ip4:50.31.32.0/19 ip4:198.37.144.0/20 ip4:149.72.0.0/16 ~all"},
    "mailgun.org": {"@": "v=spf1 include:_spf.mailgun.org ~all",
                    "_spf": "v=spf1 ip4:209.61.151.0/24 ip4:166.78.68.0/22 ip4:198.61.254.0/23 ip4:192.237.158.0/23 ~all"},
    "amazonses.com": {"@": "v=spf1 ip4:199.255.192.0/22 ip4:199.127.232.0/22 ip4:54.240.0.0/18 ip4:69.169.224.0/20 ip4:23.249.208.0/20 -all"},
    "mandrillapp.com": {"spf": "v=spf1 ip4:198.2.128.0/18 ip4:148.105.8.0/21 ~all"},
    "salesforce.com": {"_spf": "v=spf1 ip4:13.108.16.0/20 ip4:96.43.144.0/20 ip4:136.146.128.0/20 ip4:182.50.76.0/22 ~all"},
    "mcsv.net": {"servers": "v=spf1 ip4:205.201.128.0/20 ip4:198.2.128.0/18 ip4:148.105.8.0/21 ?all"},
}

CAA_ISSUERS = ["letsencrypt.org", "digicert.com", "amazon.com", "pki.goog", "sectigo.com", "globalsign.com"]

TLDS = [("com", 40), ("net", 8), ("org", 6), ("cn", 8), ("com.cn", 4), ("de", 5), ("co.uk", 4),
        ("io", 5), ("jp", 3), ("fr", 3), ("ru", 2), ("com.br", 2), ("in", 2), ("nl", 2), ("info", 2), ("tech", 1)]
WORDS_A = ["blue", "north", "green", "smart", "rapid", "global", "bright", "silver", "urban", "prime",
           "alpha", "nova", "clear", "deep", "open", "red", "sun", "sky", "iron", "quantum", "golden",
           "first", "metro", "pixel", "royal", "true", "hyper", "micro", "zen", "vivid"]
WORDS_B = ["falcon", "vision", "labs", "systems", "media", "cloud", "works", "data", "logic", "bridge",
           "river", "peak", "forge", "field", "hub", "wave", "point", "stone", "tech", "trade", "link",
           "path", "mart", "sense", "soft", "net", "gate", "line", "optics", "motors"]

# Test CAs with issuer names like the real ones (the catalog's cert-issuer rules fire).
CAS = [
    ("le", "ISRG Root X1", "Internet Security Research Group", "R11", "Let's Encrypt"),
    ("digicert", "DigiCert Global Root G2", "DigiCert Inc", "DigiCert Global G2 TLS RSA SHA256 2020 CA1", "DigiCert Inc"),
    ("sectigo", "USERTrust RSA Certification Authority", "The USERTRUST Network", "Sectigo RSA Domain Validation Secure Server CA", "Sectigo Limited"),
    ("globalsign", "GlobalSign Root CA - R3", "GlobalSign", "GlobalSign GCC R3 DV TLS CA 2020", "GlobalSign nv-sa"),
]

REGISTRARS = [
    ("godaddy", "GoDaddy.com, LLC", "146"),
    ("markmonitor", "MarkMonitor Inc.", "292"),
    ("alibaba", "Alibaba Cloud Computing (Beijing) Co., Ltd.", "420"),
    ("namecheap", "NameCheap, Inc.", "1068"),
    ("tucows", "Tucows Domains Inc.", "69"),
]


def pick(rng, table, wi=1):
    total = sum(t[wi] for t in table)
    x = rng.uniform(0, total)
    for t in table:
        x -= t[wi]
        if x <= 0:
            return t
    return table[-1]


def rand_ip(rng, cidrs):
    net = ipaddress.ip_network(rng.choice(cidrs))
    # Avoid network/broadcast-looking addresses for realism.
    return str(net.network_address + rng.randrange(1, net.num_addresses - 1))


def rand_ip6(rng, cidr):
    net = ipaddress.ip_network(cidr)
    return str(net.network_address + rng.getrandbits(64))


# --------------------------------------------------------------------------- domains
def make_domains(n, rng):
    seen, out = set(), []
    while len(out) < n:
        tld = pick(rng, TLDS)[0]
        a, b = rng.choice(WORDS_A), rng.choice(WORDS_B)
        style = rng.random()
        if style < 0.4:
            label = f"{a}{b}{rng.randrange(10, 99999)}"
        elif style < 0.8:
            label = f"{a}-{b}-{rng.randrange(1, 99999)}"
        else:
            label = f"{b}{a}{rng.randrange(100, 999999)}"
        name = f"{label}.{tld}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def domain_zone(z, rng):
    """The zone text for one target domain, and facts the other files need."""
    host = pick(rng, HOSTING)
    hname, _, v4, v6, cname = host
    dnsp = pick(rng, DNS_HOSTS)
    mail = pick(rng, MAIL)
    nums = dict(i=rng.randrange(1, 2047), j=rng.randrange(1, 63), k=rng.randrange(1, 2047),
                l=rng.randrange(1, 2047), m=rng.randrange(1, 2047), i2=rng.randrange(1, 80),
                j2=rng.randrange(1, 80), d=rng.randrange(1, 9), c=rng.choice("abcd"),
                w1=rng.choice(CF_WORDS), w2=rng.choice(CF_WORDS), z=z)
    ns = [p.format(**nums) for p in dnsp[2]]
    lines = [
        f"$ORIGIN {z}.",
        "$TTL 300",
        f"@ SOA {ns[0]} hostmaster.{z}. {rng.randrange(2020010100, 2026120100)} 7200 3600 1209600 300",
    ]
    lines += [f"@ NS {n}" for n in ns]
    if dnsp[0] == "self":
        lines += [f"ns1 A {rand_ip(rng, v4)}", f"ns2 A {rand_ip(rng, v4)}"]
    label = z.split(".")[0]
    h = "%013x" % rng.getrandbits(52)
    # 10% of CDN customers have no apex address: the web host is then their www name.
    apex_addr = not (cname and rng.random() < 0.1)
    if apex_addr:
        lines.append(f"@ A {rand_ip(rng, v4)}")
        if rng.random() < 0.3:
            lines.append(f"@ A {rand_ip(rng, v4)}")
        if v6 and rng.random() < 0.5:
            lines.append(f"@ AAAA {rand_ip6(rng, v6)}")
    if cname and (not apex_addr or rng.random() < 0.7):
        lines.append(f"www CNAME {cname.format(h=h, n=label)}.")
    elif rng.random() < 0.6:
        lines.append("www CNAME @")
    else:
        lines.append(f"www A {rand_ip(rng, v4)}")
    for mx in mail[2]:
        lines.append(f"@ MX {mx.format(dash=z.replace('.', '-'), **nums)}")
    if mail[0] == "self":
        lines.append(f"mail A {rand_ip(rng, v4)}")
    includes = [mail[3]] if mail[3] else []
    includes += rng.sample(SENDERS, rng.choice([0, 0, 1, 1, 2]))
    if includes or mail[0] == "self":
        spf = "v=spf1 " + ("mx " if mail[0] == "self" else "") + " ".join(f"include:{i}" for i in includes) + " ~all"
        lines.append(f'@ TXT "{spf}"')
    if rng.random() < 0.5:
        lines.append(f'@ TXT "google-site-verification={h}{h}{h[:17]}"')
    if rng.random() < 0.3:
        lines.append(f'@ TXT "MS=ms{rng.randrange(10**7, 10**8)}"')
    if rng.random() < 0.2:
        lines.append(f'@ TXT "facebook-domain-verification={h}{h[:4]}"')
    if rng.random() < 0.4:
        lines.append(f'@ CAA 0 issue "{rng.choice(CAA_ISSUERS)}"')
        if rng.random() < 0.3:
            lines.append(f'@ CAA 0 iodef "mailto:security@{z}"')
    return "\n".join(lines) + "\n", hname


def provider_zones():
    zones = {}
    for z, recs in PROVIDER_ZONES.items():
        body = []
        for i, r in enumerate(recs):
            body.append(r.format(r=10 + i))
        zones[z] = body
    for z, owners in SPF_ZONES.items():
        body = zones.setdefault(z, [])
        for owner, spf in owners.items():
            body.append(f'{owner} TXT "{spf}"')
    out = {}
    for z, body in zones.items():
        out[z] = "\n".join([f"$ORIGIN {z}.", "$TTL 300",
                            f"@ SOA ns1.{z}. hostmaster.{z}. 2026010101 7200 3600 1209600 300",
                            f"@ NS ns1.{z}.", f"@ NS ns2.{z}.",
                            "ns1 A 192.0.2.1", "ns2 A 192.0.2.2"] + body) + "\n"
    return out


# --------------------------------------------------------------------------- pages
LOREM = ("we build reliable products for customers in many countries and our teams work across "
         "engineering design support and operations to deliver secure services at scale every day "
         "with partners suppliers and a growing community of developers researchers and users").split()


def para(rng, words):
    w = [rng.choice(LOREM) for _ in range(words)]
    w[0] = w[0].capitalize()
    return " ".join(w) + "."


def page(rng, kind):
    """One HTML page template of ~30-60 KB. Static, so nginx serves it precompressed
    (gzip_static, as a CDN edge would): the page refers to its own host by relative URLs."""
    head_extra = {
        "corp": """
<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>
<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter:wght@400;600&display=swap">
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5.3.2/dist/css/bootstrap.min.css">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-7Q2X9B4LMN"></script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());gtag('config','G-7Q2X9B4LMN');</script>
<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src='https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-K4ZP7QX');</script>
<script src="https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js" integrity="sha512-v2CJ7UaYy4JwqLDIrZUI/4hqeoQieOmAZNXBeQyjo21dadnwR+8ZaIJVT8EE2iyI61OV8e6M8PP2/4hpQINQ/g==" crossorigin="anonymous"></script>
<script src="https://www.google.com/recaptcha/api.js" async defer></script>
<script src="https://static.hotjar.com/c/hotjar-3141592.js?sv=6" async></script>
""",
        "cn": """
<link rel="stylesheet" href="https://g.alicdn.com/code/lib/bootstrap/5.3.2/css/bootstrap.min.css">
<script src="https://g.alicdn.com/code/lib/jquery/3.7.1/jquery.min.js"></script>
<script>var _hmt=_hmt||[];(function(){var hm=document.createElement("script");hm.src="https://hm.baidu.com/hm.js?3f1d8e4c2b7a6e5d9c0b1a2f3e4d5c6b";var s=document.getElementsByTagName("script")[0];s.parentNode.insertBefore(hm,s);})();</script>
<script src="https://res.wx.qq.com/open/js/jweixin-1.6.0.js"></script>
<script src="https://s4.cnzz.com/z_stat.php?id=1281234567&web_id=1281234567" language="JavaScript"></script>
<script src="https://api.map.baidu.com/api?v=3.0&ak=Xk4s9fPq2L"></script>
""",
        "shop": """
<link rel="preconnect" href="https://cdn.shopify.com">
<link rel="stylesheet" href="https://cdn.shopify.com/s/files/1/0612/3456/7890/t/3/assets/theme.css?v=1700000000">
<script src="https://cdn.shopify.com/s/files/1/0612/3456/7890/t/3/assets/theme.js?v=1700000000" defer></script>
<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js');fbq('init','1234567890123456');fbq('track','PageView');</script>
<script async src="https://static.klaviyo.com/onsite/js/klaviyo.js?company_id=AbC123"></script>
<script src="https://js.stripe.com/v3/"></script>
<script async src="https://www.googletagmanager.com/gtag/js?id=AW-123456789"></script>
<script src="https://widget.intercom.io/widget/abcd1234" async></script>
""",
        "media": """
<link rel="stylesheet" href="https://use.typekit.net/abc1def.css">
<link rel="dns-prefetch" href="https://securepubads.g.doubleclick.net">
<script async src="https://securepubads.g.doubleclick.net/tag/js/gpt.js"></script>
<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-1234567890123456" crossorigin="anonymous"></script>
<script src="https://www.google-analytics.com/analytics.js" async></script>
<script src="https://unpkg.com/react@18.2.0/umd/react.production.min.js" crossorigin></script>
<script src="https://cdn.onesignal.com/sdks/OneSignalSDK.js" async></script>
<script type="text/javascript" src="https://platform.twitter.com/widgets.js" charset="utf-8" async></script>
""",
    }[kind]
    embeds = {
        "corp": ['<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" width="560" height="315" allowfullscreen></iframe>',
                 '<iframe src="https://www.google.com/maps/embed?pb=!1m18!1m12!1m3!1d3151" width="600" height="450"></iframe>'],
        "cn": ['<iframe src="https://player.bilibili.com/player.html?bvid=BV1xx411c7mD" width="640" height="360"></iframe>',
               '<img src="https://img.alicdn.com/imgextra/i4/O1CN01abcdef_!!6000000000000-2-tps-200-80.png" alt="logo">'],
        "shop": ['<img src="https://cdn.shopify.com/s/files/1/0612/3456/7890/products/item_800x.jpg" alt="product">',
                 '<script src="https://www.paypal.com/sdk/js?client-id=sb&currency=USD" data-namespace="paypal_sdk"></script>'],
        "media": ['<iframe src="https://player.vimeo.com/video/76979871" width="640" height="360"></iframe>',
                  '<img src="https://res.cloudinary.com/demo/image/upload/w_800/sample.jpg" alt="hero">',
                  '<script src="https://connect.facebook.net/en_US/sdk.js#xfbml=1&version=v18.0" async defer crossorigin="anonymous"></script>'],
    }[kind]
    socials = {
        "corp": ["https://www.linkedin.com/company/acme-group", "https://twitter.com/acme-group", "https://github.com/acme-group"],
        "cn": ["https://weibo.com/acme-group", "https://www.zhihu.com/org/acme-group", "https://beian.miit.gov.cn/"],
        "shop": ["https://www.instagram.com/acme-group", "https://www.facebook.com/acme-group", "https://www.pinterest.com/acme-group"],
        "media": ["https://www.youtube.com/@acme-group", "https://www.tiktok.com/@acme-group", "https://x.com/acme-group"],
    }[kind]
    lang = "zh-CN" if kind == "cn" else "en"
    parts = [f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{kind.capitalize()} home</title>
<meta name="description" content="{para(rng, 24)}">
<link rel="canonical" href="/">
<link rel="icon" href="/favicon.ico">
<meta property="og:url" content="/">
<meta property="og:image" content="/static/og.png">
{head_extra}
<style>
""" + "\n".join(f".c{i}{{margin:{i % 7}px;padding:{i % 5}px;color:#{(i * 2654435761) % 0xffffff:06x}}}" for i in range(150)) + """
</style>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization","url":"/","logo":"/static/logo.png"}</script>
</head>
<body>
<header><nav><ul>"""]
    for i in range(40):
        parts.append(f'<li class="c{i}"><a href="/section/{i}/">{rng.choice(LOREM).capitalize()} {i}</a></li>')
    parts.append("</ul></nav></header>\n<main>")
    size_target = rng.randrange(30_000, 58_000)
    i = 0
    while sum(len(p) for p in parts) < size_target:
        parts.append(f'<article class="c{i % 150}"><h2>{para(rng, 6)}</h2>')
        for _ in range(3):
            parts.append(f"<p>{para(rng, 40)}</p>")
        parts.append(f'<a href="/news/{i}/">Read more</a> <img src="/static/img/{i}.webp" alt="" loading="lazy"></article>')
        if i % 7 == 3 and embeds:
            parts.append(embeds[i % len(embeds)])
        i += 1
    parts.append("</main>\n<footer><ul>")
    for s in socials:
        parts.append(f'<li><a href="{s}" rel="noopener" target="_blank">{s.split("/")[2]}</a></li>')
    parts.append('</ul><p>&copy; 2026 Acme Group</p></footer>\n</body>\n</html>\n')
    return "\n".join(parts)


def rdap_json(reg):
    slug, name, iana = reg
    return ('{"objectClassName":"domain","rdapConformance":["rdap_level_0"],'
            '"handle":"__HANDLE__","ldhName":"__DOMAIN__","status":["client transfer prohibited"],'
            '"events":[{"eventAction":"registration","eventDate":"2011-03-14T09:26:53Z"},'
            '{"eventAction":"expiration","eventDate":"2027-03-14T09:26:53Z"},'
            '{"eventAction":"last changed","eventDate":"2025-02-11T17:02:11Z"}],'
            '"entities":[{"objectClassName":"entity","handle":"' + iana + '","roles":["registrar"],'
            '"publicIds":[{"type":"IANA Registrar ID","identifier":"' + iana + '"}],'
            '"vcardArray":["vcard",[["version",{},"text","4.0"],["fn",{},"text","' + name + '"]]]}],'
            '"nameservers":[{"objectClassName":"nameserver","ldhName":"ns1.example.net"}]}\n')


# --------------------------------------------------------------------------- certs
# Made with the `cryptography` package (one process, ~1 ms per certificate; the openssl
# CLI costs tens of ms per call, minutes at 100,000 domains).
def make_pki(cdir, groups):
    """Root + intermediate per CA brand, one leaf certificate per group of domains."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)

    def name(o, cn):
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, o),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def pem(c):
        return c.public_bytes(serialization.Encoding.PEM).decode()

    def ca_cert(subject, key, issuer, issuer_key, days, pathlen):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=days))
             .add_extension(x509.BasicConstraints(ca=True, path_length=pathlen), critical=True)
             .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        if issuer_key is not key:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    inters, roots = [], []
    for _cid, root_cn, root_o, int_cn, int_o in CAS:
        rk = ec.generate_private_key(ec.SECP256R1())
        rn = name(root_o, root_cn)
        root = ca_cert(rn, rk, rn, rk, 3650, None)
        ik = ec.generate_private_key(ec.SECP256R1())
        inter = ca_cert(name(int_o, int_cn), ik, rn, rk, 1825, 0)
        roots.append(pem(root))
        inters.append((inter, ik))
    with open(os.path.join(cdir, "roots.pem"), "w") as f:
        f.write("".join(roots))
    # One leaf key shared by all leaf certificates: key generation is not what we measure.
    lk = ec.generate_private_key(ec.SECP256R1())
    with open(os.path.join(cdir, "leaf.key"), "wb") as f:
        f.write(lk.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()))
    for gi, names in enumerate(groups):
        inter, ik = inters[gi % len(inters)]
        sans = [x509.DNSName(h) for n in names for h in (n, f"www.{n}")]
        leaf = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(inter.subject).public_key(lk.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=397))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                               critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ik.public_key()),
                               critical=False)
                .sign(ik, hashes.SHA256()))
        with open(os.path.join(cdir, f"chain{gi}.pem"), "w") as f:
            f.write(pem(leaf) + pem(inter))


# --------------------------------------------------------------------------- configs
def knot_conf(out, dns_port, adns_addr, zones):
    listen = [f"127.0.0.1@{dns_port}"]
    if adns_addr:
        listen.append(f"{adns_addr}@53")
    lines = [
        "# Authoritative only, loopback only: no remotes, no notify, no transfers, no recursion.",
        "server:",
        f"    rundir: \"{out}/run\"",
        f"    pidfile: \"{out}/run/knot.pid\"",
        "    listen: [" + ", ".join(listen) + "]",
        "    udp-max-payload: 1232",
        "    tcp-max-clients: 1000",
        "control:",
        f"    listen: \"{out}/run/knot.sock\"",
        "log:",
        "  - target: stderr",
        "    any: warning",
        "database:",
        f"    storage: \"{out}/run/db\"",
        "mod-stats:",
        "  - id: bench",
        "    request-protocol: on",
        "    server-operation: on",
        "    response-code: on",
        "template:",
        "  - id: default",
        f"    storage: \"{out}/zones\"",
        "    file: \"%s.zone\"",
        "    zonefile-sync: -1",
        "    zonefile-load: whole",
        "    journal-content: none",
        "    semantic-checks: off",
        "    global-module: mod-stats/bench",
        "zone:",
    ]
    lines += [f"  - domain: {z}" for z in zones]
    with open(os.path.join(out, "knot.conf"), "w") as f:
        f.write("\n".join(lines) + "\n")


def nginx_conf(out, http_port, https_port, groups, workers):
    # split_clients picks a page template and provider-like headers per host name, and a
    # registrar answer per RDAP domain, deterministically.
    conf = f"""# Loopback only; serves files, proxies nothing.
worker_processes {workers};
pid {out}/run/nginx.pid;
error_log {out}/run/nginx-error.log warn;
daemon off;
events {{ worker_connections 4096; multi_accept on; }}
http {{
    access_log off;
    client_body_temp_path {out}/run/nginx-body;
    proxy_temp_path {out}/run/nginx-proxy;
    fastcgi_temp_path {out}/run/nginx-fastcgi;
    uwsgi_temp_path {out}/run/nginx-uwsgi;
    scgi_temp_path {out}/run/nginx-scgi;
    types {{ text/html html; application/rdap+json json; image/x-icon ico; }}
    default_type application/octet-stream;
    sendfile on;
    keepalive_requests 1000;
    # Redirects stay relative ("Location: /home/"), so they never name nginx's real port
    # (servedby reaches it through --connect-to for port 443; whatweb through its URL).
    absolute_redirect off;
    server_names_hash_max_size 1048576;
    server_names_hash_bucket_size 128;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:20m;
    # Pages are served precompressed (page.html.gz, level 6), as a CDN edge or a build
    # pipeline would; nginx compresses nothing per request (RDAP answers are small).
    gzip off;
    gzip_static on;
    gzip_vary on;
    split_clients "${{host}}" $tpl {{ 35% corp; 20% cn; 25% shop; * media; }}
    split_clients "${{uri}}" $registrar {{ 30% godaddy; 25% markmonitor; 20% alibaba; 15% namecheap; * tucows; }}
    map $tpl $h_cache {{ corp "Hit from cloudfront"; shop "HIT"; default ""; }}
    map $tpl $h_amz {{ corp "Q7nHk3x1Yb-2lF0dWmVx9zK4cJ8sP5rT"; default ""; }}
    map $tpl $h_cf {{ cn ""; shop "8a1b2c3d4e5f6a7b-FRA"; default ""; }}
    map $tpl $h_fastly {{ media "cache-fra-eddf8230089-FRA"; default ""; }}
    map $tpl $h_powered {{ shop "Shopify"; cn "ASP.NET"; default ""; }}
    root {out}/www;

    server {{
        listen 127.0.0.1:{http_port} default_server reuseport backlog=4096;
        server_name _;
        include {out}/site.conf;
        # RDAP (used via --rdap-server http://127.0.0.1:{http_port}/rdap/).
        location ~ /domain/(?<rdapdom>[^/]+)$ {{
            default_type application/rdap+json;
            sub_filter_types application/rdap+json;
            sub_filter_once off;
            sub_filter "__DOMAIN__" $rdapdom;
            sub_filter "__HANDLE__" "$rdapdom-BENCH";
            try_files /rdap/$registrar.json =404;
        }}
    }}
"""
    default = True
    for gi, names in enumerate(groups):
        sn = " ".join(f"{n} www.{n}" for n in names)
        conf += f"""    server {{
        listen 127.0.0.1:{https_port} ssl{' default_server reuseport backlog=4096' if default else ''};
        server_name {sn};
        ssl_certificate {out}/certs/chain{gi}.pem;
        ssl_certificate_key {out}/certs/leaf.key;
        include {out}/site.conf;
    }}
"""
        default = False
    conf += "}\n"
    with open(os.path.join(out, "nginx.conf"), "w") as f:
        f.write(conf)
    with open(os.path.join(out, "site.conf"), "w") as f:
        f.write("""add_header X-Cache $h_cache;
add_header X-Amz-Cf-Id $h_amz;
add_header CF-RAY $h_cf;
add_header X-Served-By $h_fastly;
add_header X-Powered-By $h_powered;
location = / {
    # The media template answers with one redirect hop, like many real sites.
    if ($tpl = media) { return 301 /home/; }
    try_files /pages/$tpl.html =404;
}
location = /home/ { try_files /pages/$tpl.html =404; }
location = /favicon.ico { return 204; }
""")


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--domains", type=int, default=10000)
    ap.add_argument("--dns-port", type=int, required=True)
    ap.add_argument("--http-port", type=int, required=True)
    ap.add_argument("--https-port", type=int, required=True)
    ap.add_argument("--adns-addr", default="", help="extra knot listener ADDR:53 for adnshost (empty: none)")
    ap.add_argument("--nginx-workers", type=int, default=2)
    ap.add_argument("--sample", type=int, default=200, help="hosts for the whatweb comparison")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--group", type=int, default=50, help="domains per TLS certificate")
    a = ap.parse_args()

    out = os.path.abspath(a.out)
    for d in ("zones", "www/pages", "www/rdap", "certs", "lists", "run/db"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    rng = random.Random(a.seed)
    domains = make_domains(a.domains, rng)

    zone_names = []
    for z in domains:
        text, _ = domain_zone(z, rng)
        with open(os.path.join(out, "zones", f"{z}.zone"), "w") as f:
            f.write(text)
        zone_names.append(z)
    for z, text in provider_zones().items():
        with open(os.path.join(out, "zones", f"{z}.zone"), "w") as f:
            f.write(text)
        zone_names.append(z)
    knot_conf(out, a.dns_port, a.adns_addr, zone_names)

    prng = random.Random(a.seed + 1)
    for kind in ("corp", "cn", "shop", "media"):
        text = page(prng, kind)
        with open(os.path.join(out, "www/pages", f"{kind}.html"), "w") as f:
            f.write(text)
        with open(os.path.join(out, "www/pages", f"{kind}.html.gz"), "wb") as f:
            f.write(gzip.compress(text.encode(), compresslevel=6, mtime=0))
    for reg in REGISTRARS:
        with open(os.path.join(out, "www/rdap", f"{reg[0]}.json"), "w") as f:
            f.write(rdap_json(reg))

    groups = [domains[i:i + a.group] for i in range(0, len(domains), a.group)]
    make_pki(os.path.join(out, "certs"), groups)
    nginx_conf(out, a.http_port, a.https_port, groups, a.nginx_workers)

    # Query lists. "A" run: every target apex; "mixed" run: six types per target (the
    # types every peer supports; adns has no CAA).
    lists = os.path.join(out, "lists")
    with open(os.path.join(lists, "targets.txt"), "w") as f:
        f.write("\n".join(domains) + "\n")
    with open(os.path.join(lists, "dnsperf-a.txt"), "w") as f:
        f.writelines(f"{d} A\n" for d in domains)
    mixed = ["A", "AAAA", "MX", "TXT", "NS", "SOA"]
    with open(os.path.join(lists, "dnsperf-mixed.txt"), "w") as f:
        for t in mixed:
            f.writelines(f"{d} {t}\n" for d in domains)
    adns_type = {"A": "a", "AAAA": "aaaa", "MX": "mx-", "TXT": "txt", "NS": "ns-", "SOA": "soa-"}
    with open(os.path.join(lists, "adns-a.txt"), "w") as f:
        f.write("-t a\n")
        f.writelines(f"- {d}\n" for d in domains)
    with open(os.path.join(lists, "adns-mixed.txt"), "w") as f:
        for t in mixed:
            f.write(f"-t {adns_type[t]}\n")
            f.writelines(f"- {d}\n" for d in domains)
    sample = random.Random(a.seed + 2).sample(domains, min(a.sample, len(domains)))
    with open(os.path.join(lists, "sample.txt"), "w") as f:
        f.write("\n".join(sample) + "\n")
    with open(os.path.join(lists, "sample-hosts"), "w") as f:
        f.write("127.0.0.1 localhost\n")
        f.writelines(f"127.0.0.1 {d}\n" for d in sample)
    with open(os.path.join(lists, "sample-urls.txt"), "w") as f:
        f.writelines(f"https://{d}:{a.https_port}/\n" for d in sample)
    print(f"world: {len(domains)} domains, {len(zone_names)} zones, {len(groups)} certificates in {out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()

//! Temporary throughput probe (not committed).
mod util;
use servedby_fetch::StaticResolver;
use servedby_testnet::pki::{KeyAlg, Preset, TestCa, TestKey, Validity};
use servedby_testnet::web::{Response, Site, WebServer};
use std::sync::Arc;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput() {
    let ca = TestCa::preset(Preset::DigiCertG2);
    let key = TestKey::generate(KeyAlg::EcdsaP256);
    let n = 2000;
    let t = Instant::now();
    let sites: Vec<Site> = (0..n)
        .map(|i| {
            let h = format!("www.d{i}.example");
            Site::new(&h)
                .chain(ca.leaf(&[&h]).key(&key).issue())
                .route("/", Response::html("<title>x</title>".repeat(100)).gzip())
        })
        .collect();
    eprintln!("issued {n} chains in {:?}", t.elapsed());
    let server = WebServer::start(sites).await.unwrap();
    let f = Arc::new(util::fetcher_with(
        &server,
        &[&ca],
        util::base_config(),
        Arc::new(StaticResolver::new()),
    ));
    let sem = Arc::new(tokio::sync::Semaphore::new(200));
    let t = Instant::now();
    let mut handles = Vec::new();
    for i in 0..n {
        let f = f.clone();
        let sem = sem.clone();
        handles.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let r = f
                .fetch_site(&format!("www.d{i}.example"), &[util::public_ip()])
                .await;
            r.http.outcome == servedby_model::Outcome::Ok
                && r.tls.unwrap().outcome == servedby_model::Outcome::Ok
        }));
    }
    let mut ok = 0;
    for h in handles {
        if h.await.unwrap() {
            ok += 1;
        }
    }
    let el = t.elapsed();
    eprintln!(
        "{ok}/{n} ok in {el:?}: {:.0}/s",
        n as f64 / el.as_secs_f64()
    );
}

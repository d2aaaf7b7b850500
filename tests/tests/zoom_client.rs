//! The Zoom API client as the console uses it (one client, many calls): one token for
//! all callers, reused until a minute before it expires, and the bearer header on every
//! call. Against the strict stand-in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use zoomwatch_e2e::zoom_api::{ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, ZoomStandIn};
use zoomwatch_zoomapi::{Action, Client, ClientConfig, Credentials, Lookup};

fn client(zoom: &ZoomStandIn) -> Arc<Client> {
    let cfg = ClientConfig { api_url: zoom.api_url(), oauth_url: zoom.oauth_url(), ..ClientConfig::default() };
    Arc::new(Client::new(cfg, Credentials::new(ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET)).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn one_token_serves_concurrent_calls() {
    let zoom = ZoomStandIn::start().await;
    let c = client(&zoom);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let l = Lookup::User { user: format!("u{i}@acme.example") };
            c.call(&l.request(), l.name(), l.scope()).await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body["status"], "active");
    }
    assert_eq!(zoom.token_requests(), 1, "the token is shared");
    assert_eq!(zoom.calls().len(), 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_near_expiry_is_renewed_before_use() {
    let zoom = ZoomStandIn::start().await;
    // Less than the one-minute margin: every call needs a fresh token.
    zoom.set_token_lifetime(30);
    let c = client(&zoom);
    let a = Action::SignOutUser { user: "u1".into() };
    for _ in 0..3 {
        c.call(&a.request(), a.name(), a.scope()).await.unwrap();
    }
    assert_eq!(zoom.token_requests(), 3);
    assert!(zoom.unexpected().is_empty(), "{:?}", zoom.unexpected());
}

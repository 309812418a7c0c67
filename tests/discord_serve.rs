//! `kotae serve` (the real binary) with Discord: it connects, answers and
//! stops on SIGTERM, outlives a refused token with `/healthz` saying why;
//! and the measurements (ignored; `cargo test --release --test
//! discord_serve -- --ignored --nocapture`): latency of 100 `/ask`s, and
//! memory idle and under a burst of 1,000.

#![cfg(feature = "discord")]

#[path = "support/discord_bot.rs"]
mod discord_bot;
mod discord_double;
#[path = "support/knowledge.rs"]
mod knowledge;

use discord_bot::*;
use discord_double::*;
use kotae::core::{Kotae, Lang, LangChoice, messages};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Time from INTERACTION_CREATE leaving the gateway to the callback
/// arriving at the REST server, over 100 `/ask`s, and the process's
/// memory (bot and double together) while connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn latency_of_100_interactions_and_memory() {
    let double = Double::start(1).await;
    let _bot = start(&double, config(&double)).await;
    let questions = [
        ("When did the Japan Centers close?", "en-US"),
        ("日本センターはいつ閉鎖されましたか?", "ja"),
        ("日本中心是什么时候关闭的?", "zh-CN"),
    ];
    let mut latencies = Vec::new();
    for i in 0..100 {
        let (question, locale) = questions[i % questions.len()];
        let id = double.command("ask", ask_options(question), locale, MEMBER);
        double.callback(&id).await;
        let sent = double.log(|l| l.dispatched.iter().find(|d| d.1 == id).unwrap().2);
        let route = format!("/interactions/{id}/{}/callback", interaction_token(&id));
        let arrived = double.log(|l| l.requests.iter().find(|r| r.route == route).unwrap().at);
        latencies.push(arrived - sent);
    }
    let worst_at = (0..latencies.len()).max_by_key(|&i| latencies[i]).unwrap();
    latencies.sort();
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "VmRSS: unknown".into());
    println!(
        "INTERACTION_CREATE → callback over 100: median {:?}, 95th {:?}, worst {:?} (#{}); \
         {rss} (bot and double in one process)",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 95 / 100],
        latencies[latencies.len() - 1],
        worst_at + 1,
    );
}

/// `kotae serve` itself, configured only by environment variables: it
/// connects, answers, never writes the token to its logs (even at trace
/// level), and disconnects cleanly on SIGTERM. Prints the serving
/// process's memory while connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kotae_serve_connects_answers_and_stops_on_sigterm() {
    use tokio::io::AsyncReadExt;
    let double = Double::start(1).await;
    let state = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("serve")
        .env("KOTAE_DISCORD_TOKEN", TOKEN)
        .env("KOTAE_DISCORD_API_URL", &double.rest_url)
        .env("KOTAE_STATE_DIR", state.path())
        .env("KOTAE_HTTP_LISTEN", "127.0.0.1:0")
        .env("KOTAE_LOG_LEVEL", "trace")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kotae serve starts");
    let mut stderr = child.stderr.take().unwrap();
    let logs = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    double.wait_live().await;
    double
        .wait_request("the commands' registration", |r| r.method == "PUT")
        .await;
    let question = "When did the Japan Centers close?";
    let reply = Kotae::new(embedded())
        .ask(question, LangChoice::Detect)
        .unwrap();
    // The default limit lets a member ask three at once, then slows them.
    for _ in 0..3 {
        let id = double.command("ask", ask_options(question), "en-US", MEMBER);
        assert_answer(&double.callback(&id).await, &reply);
    }
    let id = double.command("ask", ask_options(question), "en-US", MEMBER);
    let slowed = double.callback(&id).await;
    assert_eq!(slowed["data"]["content"], messages::get(Lang::En).slow_down);
    let pid = child.id().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or("VmRSS: unknown");
    println!("kotae serve, connected to the double, after 3 answers: {rss}");

    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("kotae serve stops on SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    let logs = logs.await.unwrap();
    assert!(logs.contains("logged in to Discord"), "{logs}");
    assert!(!logs.contains(TOKEN), "the token was logged");
}

/// `kotae serve` whose token Discord refuses at first: the process keeps
/// running, `/healthz` says 503 with the reason, and it connects on a
/// later attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kotae_serve_outlives_a_refused_token_and_healthz_says_why() {
    let double = Double::start(1).await;
    double.refuse_token(1);
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("serve")
        .env("KOTAE_DISCORD_TOKEN", TOKEN)
        .env("KOTAE_DISCORD_API_URL", &double.rest_url)
        .env("KOTAE_STATE_DIR", state.path())
        .env("KOTAE_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("kotae serve starts");
    double
        .wait_request("the refused GET /gateway/bot", |r| {
            r.route == "/gateway/bot"
        })
        .await;
    let deadline = Instant::now() + PATIENCE;
    let down = loop {
        if let Some(health) = healthz(port).await {
            break health;
        }
        assert!(Instant::now() < deadline, "/healthz never answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(down.0, 503, "{down:?}");
    assert_eq!(down.1["reason"], "not connected: discord");
    assert!(child.try_wait().unwrap().is_none(), "kotae serve exited");

    double.wait_live().await;
    let deadline = Instant::now() + PATIENCE;
    while healthz(port).await.map(|h| h.0) != Some(200) {
        assert!(Instant::now() < deadline, "/healthz never recovered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().unwrap().to_string();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("kotae serve stops on SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// `kotae serve` (the real binary, rate limit off) under a burst of 1,000
/// `/ask`s dispatched as fast as the double writes them: resident memory
/// idle, after, and at its peak, and INTERACTION_CREATE → callback times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn memory_idle_and_under_a_burst_of_1000_questions() {
    const BURST: usize = 1000;
    let double = Double::start(1).await;
    let state = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .arg("serve")
        .env("KOTAE_DISCORD_TOKEN", TOKEN)
        .env("KOTAE_DISCORD_API_URL", &double.rest_url)
        .env("KOTAE_DISCORD_RATE_PER_MINUTE", "0")
        .env("KOTAE_STATE_DIR", state.path())
        .env("KOTAE_HTTP_LISTEN", "127.0.0.1:0")
        .env("KOTAE_LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("kotae serve starts");
    let pid = child.id().unwrap();
    double.wait_live().await;
    double
        .wait_request("the commands' registration", |r| r.method == "PUT")
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (idle, _) = memory_kb(pid);

    let questions = [
        ("When did the Japan Centers close?", "en-US"),
        ("日本センターはいつ閉鎖されましたか?", "ja"),
        ("日本中心是什么时候关闭的?", "zh-CN"),
        (
            "What is the airspeed velocity of an unladen swallow?",
            "en-US",
        ),
    ];
    let started = Instant::now();
    let ids: Vec<String> = (0..BURST)
        .map(|i| {
            let (question, locale) = questions[i % questions.len()];
            double.command("ask", ask_options(question), locale, MEMBER + i as u64 % 50)
        })
        .collect();
    let mut peak_during = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = double.log(|l| {
            l.requests
                .iter()
                .filter(|r| r.route.ends_with("/callback"))
                .count()
        });
        peak_during = peak_during.max(memory_kb(pid).0);
        if done >= BURST {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {done} of {BURST} callbacks"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all_answered = started.elapsed();
    // Answers also fetch @original to record their message id.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (after, peak) = memory_kb(pid);
    let mut latencies: Vec<Duration> = double.log(|l| {
        let sent: HashMap<&str, Instant> = l
            .dispatched
            .iter()
            .map(|(_, id, at)| (id.as_str(), *at))
            .collect();
        ids.iter()
            .map(|id| {
                let route = format!("/interactions/{id}/{}/callback", interaction_token(id));
                let arrived = l.requests.iter().find(|r| r.route == route).unwrap().at;
                arrived - sent[id.as_str()]
            })
            .collect()
    });
    latencies.sort();
    let recorded = std::fs::read_to_string(state.path().join("answers.jsonl"))
        .unwrap_or_default()
        .lines()
        .count();
    println!(
        "kotae serve, {BURST} /asks in {all_answered:?}: RSS idle {idle} kB, after {after} kB, \
         peak {peak} kB (highest sampled during the burst {peak_during} kB); \
         INTERACTION_CREATE → callback median {:?}, 95th {:?}, worst {:?}; {recorded} answers recorded",
        latencies[BURST / 2],
        latencies[BURST * 95 / 100],
        latencies[BURST - 1],
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = tokio::time::timeout(PATIENCE, child.wait()).await;
}

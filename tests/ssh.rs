//! Links to warroom on other hosts over a real OpenSSH server: the greeting, ssh's own
//! errors named by step, a protocol mismatch, a link cut without a FIN, and no process left
//! behind on the far side. Vantages, mirrors and remote screens build on these links.

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::proc::exited;
use support::sshd::{Netns, SshClient, Sshd};
use warroom::ssh::{Destination, Link, LinkError, Ssh, Timing};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn reach(client: &SshClient, alias: &str, command: &str) -> Output {
    let (key, value) = client.env();
    Command::new(BIN).args(["reach", alias, "--command", command]).env(key, value).output().unwrap()
}

fn destination(alias: &str) -> Destination {
    Destination { name: alias.into(), ssh: alias.into(), command: Some(BIN.into()) }
}

#[test]
fn reach_names_the_far_warroom_and_leaves_no_process_behind() {
    let Some(mut client) = SshClient::new() else { return };
    let Some(server) = Sshd::start(&mut client, "paris", None) else { return };
    let out = reach(&client, "paris", BIN);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}\nsshd: {}", String::from_utf8_lossy(&out.stderr), server.log());
    assert!(stdout.starts_with("paris: warroom 0.1.0 (protocol 1) as root@"), "{stdout}");
    let pid: u32 = stdout.split("pid ").nth(1).and_then(|s| s.split(';').next()).unwrap().parse().unwrap();
    // The far side ended with its stdin: nothing of ours is left under sshd.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !exited(pid) {
        assert!(Instant::now() < deadline, "the far warroom (pid {pid}) still runs after reach ended");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_refused_key_is_reported_with_the_step_and_ssh_s_words() {
    let Some(mut client) = SshClient::new() else { return };
    let Some(server) = Sshd::start(&mut client, "paris", None) else { return };
    server.revoke_keys();
    let out = reach(&client, "paris", BIN);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("connecting to paris (paris)"), "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
}

#[test]
fn a_far_side_without_warroom_is_reported_as_such() {
    let Some(mut client) = SshClient::new() else { return };
    let Some(_server) = Sshd::start(&mut client, "paris", None) else { return };
    let out = reach(&client, "paris", "/nonexistent/warroom");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/nonexistent/warroom") && stderr.contains("No such file"), "{stderr}");
}

#[test]
fn a_far_side_speaking_another_protocol_is_named_with_both_versions() {
    let Some(mut client) = SshClient::new() else { return };
    let Some(_server) = Sshd::start(&mut client, "paris", None) else { return };
    let dir = tempfile::tempdir().unwrap();
    let future = dir.path().join("warroom-9");
    let hello = r#"{"hello":{"protocol":99,"verb":"answer","version":"9.9.9","pid":1}}"#;
    std::fs::write(&future, format!("#!/bin/sh\necho '{hello}'\ncat >/dev/null\n")).unwrap();
    Command::new("chmod").arg("755").arg(&future).status().unwrap();
    let out = reach(&client, "paris", future.to_str().unwrap());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("paris speaks warroom protocol 99 (warroom 9.9.9); this warroom speaks protocol 1 (0.1.0)"),
        "{stderr}"
    );
}

/// Packets dropped inside the far host's namespace: no FIN, no RST, only silence. The link
/// says so within its silence bound, and once packets pass again a new link works.
#[test]
fn a_link_whose_packets_are_dropped_goes_silent_within_seconds() {
    let Some(ns) = Netns::create() else { return };
    let Some(mut client) = SshClient::new() else { return };
    let Some(server) = Sshd::start(&mut client, "fra", Some(&ns)) else { return };
    let timing = Timing { beat: Duration::from_millis(500), silence: Duration::from_secs(3), ..Timing::default() };
    // ssh's own keepalive (1 s, 3 misses) would also end the link, a second after our
    // silence bound: on a loaded machine it can come first, as a clean close. The first
    // ServerAliveInterval on ssh's command line wins, so this one keeps it out of the way.
    let words = [client.words(), vec!["-o".into(), "ServerAliveInterval=60".into()]].concat();
    let ssh = Ssh::new(words, timing);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut link = Link::open(&ssh, &destination("fra"), "answer", &[])
            .await
            .unwrap_or_else(|e| panic!("{e}\nsshd: {}", server.log()));
        let far = link.peer.pid;
        assert!(server.connection_pids().contains(&far), "the far warroom runs under fra's sshd");
        link.writer.send(&serde_json::json!({"echo": 7})).await.unwrap();
        let back: serde_json::Value = link.reader.next("echo").await.unwrap().unwrap();
        assert_eq!(back["echo"], 7);

        ns.drop_packets();
        let cut = Instant::now();
        let err = loop {
            match link.reader.next::<serde_json::Value>("after the cut").await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the link closed cleanly although packets were dropped"),
                Err(e) => break e,
            }
        };
        // Silence is 3 s; 3x margin for a loaded machine.
        assert!(matches!(err, LinkError::Silent(_)) || err.is_transient(), "{err}");
        assert!(cut.elapsed() < Duration::from_secs(9), "noticed after {:?}", cut.elapsed());
        drop(link);

        ns.pass_packets();
        let again = Link::open(&ssh, &destination("fra"), "answer", &[]).await.unwrap();
        assert_ne!(again.peer.pid, far);
    });
}

/// Killing the per-connection sshd (not the listener) ends the link, which says so.
#[test]
fn a_killed_connection_is_a_closed_link() {
    let Some(ns) = Netns::create() else { return };
    let Some(mut client) = SshClient::new() else { return };
    let Some(server) = Sshd::start(&mut client, "fra", Some(&ns)) else { return };
    let ssh = Ssh::new(client.words(), Timing::default());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut link = Link::open(&ssh, &destination("fra"), "answer", &[]).await.unwrap();
        server.kill_connections();
        let err = link.reader.next::<serde_json::Value>("after the kill").await;
        assert!(matches!(err, Ok(None) | Err(LinkError::Closed(_))), "{err:?}");
        // The socket closes as the kill lands; the processes end an instant later.
        let deadline = std::time::Instant::now() + Duration::from_secs(9);
        while !server.connection_pids().is_empty() {
            assert!(std::time::Instant::now() < deadline, "left behind: {:?}", server.connection_pids());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}

/// The README's restricted key (`command="… agent"` in authorized_keys): whatever reach asks
/// for, the far side runs the agent. reach says so, and that it is fine for a vantage, after a
/// round trip in the agent's own messages.
#[test]
fn reach_through_a_key_restricted_to_the_agent_says_it_is_fine_for_a_vantage() {
    let Some(mut client) = SshClient::new() else { return };
    let Some(server) = Sshd::start(&mut client, "parisr", None) else { return };
    server.restrict_keys(&format!("{BIN} agent"));
    let out = reach(&client, "parisr", BIN);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}\nsshd: {}", server.log());
    assert!(stdout.starts_with("parisr: warroom 0.1.0 (protocol 1) as root@"), "{stdout}");
    assert!(stdout.contains("restricted to warroom agent: fine for a vantage"), "{stdout}");
}

/// Whatever started a verb that serves a link, if it is not a warroom, is told so: what was
/// expected and what came instead, never a silent exit 0 or an `after:` with nothing.
#[test]
fn a_caller_that_is_not_warroom_is_told_what_was_expected() {
    for (input, got) in [("garbage\n", "got: garbage"), ("\n", "got: (an empty line)"), ("", "got nothing")] {
        let mut child = Command::new(BIN)
            .arg("agent")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{input:?}: {stderr}");
        assert!(stderr.contains(&format!("expected warroom's greeting, {got}")), "{input:?}: {stderr}");
        // Its own greeting went out whole, newline and all.
        assert!(stdout.starts_with(r#"{"hello":"#) && stdout.ends_with("}\n"), "{input:?}: {stdout:?}");
    }
}

//! The example brain on two nodes sharing a real `redis-server`, every program a separate
//! process: an agent on node A sends 2,000 events while dashboards on node B receive every
//! one; a command posted to B reaches the agent on A and completes, seen alike from both
//! nodes; node A is killed mid-stream, the agent fails over to B and the cluster stores
//! every event exactly once; a revocation posted to B closes the agent with 4003; an agent
//! connecting to a second node replaces its connection on the first, which closes with
//! 4002, as on one node; heartbeats refresh an agent's ownership only on the node that
//! holds it.

use std::time::Duration;

use brainwire_examples::brain::AgentAccount;
use serde_json::{json, Value};

use crate::processes::{address_in, api, counter, eventually, Program, TestRedis};

const START: Duration = Duration::from_secs(30);
const RUN: Duration = Duration::from_secs(120);
const SECRET: &str = "bHVzdGVyLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY";
const ADMIN: &str = "cluster-admin-token";

/// The example agent of `token`, trying each of `nodes` in turn, sending `events`, with
/// `more` arguments.
fn agent(nodes: &[&str], token: &str, events: &str, more: &[&str]) -> Program {
    let urls: Vec<String> = nodes.iter().map(|n| format!("ws://{n}/ws/agent")).collect();
    let mut args: Vec<&str> = urls.iter().flat_map(|u| ["--url", u.as_str()]).collect();
    args.extend([
        "--token",
        token,
        "--hmac-secret",
        SECRET,
        "--events",
        events,
    ]);
    args.extend(more);
    Program::start("agent", &args)
}

/// A node of the brain: `brain --redis URL --node NAME` with the shared configuration.
fn node(redis: &str, name: &str, project: &str) -> (Program, String) {
    node_with(redis, name, project, &[])
}

/// [`node`] with `more` arguments.
fn node_with(redis: &str, name: &str, project: &str, more: &[&str]) -> (Program, String) {
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--redis",
        redis,
        "--node",
        name,
        "--project-id",
        project,
        "--agent-token",
        "agent-one",
        "--agent-token",
        "agent-two",
        "--agent-token",
        "agent-three",
        "--hmac-secret",
        SECRET,
        "--dashboard-token",
        "dash",
        "--admin-token",
        ADMIN,
        "--no-command",
    ];
    args.extend(more);
    let brain = Program::start("brain", &args);
    let addr = address_in(&brain.line("listening on ", START));
    // Serving once the API answers (Redis reached).
    eventually(START, "the node's API", || {
        (api(&addr, "GET", "/api/agents", ADMIN, None).0 == 200).then_some(())
    });
    (brain, addr)
}

fn agent_node(addr: &str, agent_id: &str) -> Option<String> {
    let (_, body) = api(addr, "GET", "/api/agents", ADMIN, None);
    body["agents"]
        .as_array()?
        .iter()
        .find(|a| a["agent_id"] == agent_id)
        .and_then(|a| a["node"].as_str().map(str::to_owned))
}

fn event_count(addr: &str, agent_id: &str) -> u64 {
    let (_, body) = api(
        addr,
        "GET",
        &format!("/api/events?agent_id={agent_id}"),
        ADMIN,
        None,
    );
    body["count"].as_u64().unwrap_or(0)
}

#[test]
fn two_nodes_share_agents_commands_events_and_fan_out_through_redis() {
    let redis = TestRedis::start();
    // A project of its own: its keys do not meet another run's.
    let project = uuid::Uuid::new_v4().to_string();
    let (mut node_a, a) = node(&redis.url, "a", &project);
    let (_node_b, b) = node(&redis.url, "b", &project);
    let one = AgentAccount::new("agent-one").agent_id;
    let two = AgentAccount::new("agent-two").agent_id;

    // Dashboards on B: the run stream, and the agent's channel.
    let mut runs = Program::start(
        "run-watch",
        &["--url", &format!("ws://{b}/ws"), "--runs", "2000"],
    );
    let channel = format!("agent:{one}");
    let mut events = Program::start(
        "dashboard",
        &[
            "--url",
            &format!("ws://{b}/api/ws"),
            "--token",
            "dash",
            "--channel",
            &channel,
            "--events",
            "1500",
        ],
    );
    runs.line("", START);
    events.line("", START);
    // Node B subscribes on Redis to the channel its dashboard watches before events flow.
    std::thread::sleep(Duration::from_millis(500));

    // The agent on A only; it stays until it answered one command.
    let mut agent_one = agent(&[&a], "agent-one", "2000", &["--expect-commands", "1"]);
    let held_by = eventually(START, "agent one online", || agent_node(&b, &one));
    assert_eq!(held_by, "a", "B sees the agent held by A");
    let command = json!({"agent_id": one, "action": "cancel_task", "target": {"task_id": "t-1"}, "parameters": {"reason": "test"}});
    let (status, created) = api(&b, "POST", "/api/commands", ADMIN, Some(&command));
    assert_eq!(status, 202, "{created}");
    let command_id = created["command_id"].as_str().expect("an id").to_owned();
    let path = format!("/api/commands/{command_id}");
    for node in [&a, &b] {
        let done = eventually(RUN, "the command completed", || {
            let (_, body) = api(node, "GET", &path, ADMIN, None);
            (body["status"] == "completed").then_some(body)
        });
        assert_eq!(
            done["result"]["target"],
            json!({"task_id": "t-1"}),
            "{done}"
        );
        assert_eq!(done["error"], Value::Null);
    }
    assert!(agent_one.wait(RUN).success(), "{}", agent_one.output());
    assert!(runs.wait(RUN).success(), "{}", runs.output());
    assert!(events.wait(RUN).success(), "{}", events.output());
    assert!(runs.output().contains("\n2000 tasks:"), "{}", runs.output());
    assert_eq!(event_count(&b, &one), 2000);

    // Agent two fails over from A to B when A dies mid-stream.
    let mut failing_over = agent(&[&a, &b], "agent-two", "6000", &["--stay-connected", "60"]);
    eventually(START, "agent two's first batch", || {
        (event_count(&b, &two) > 0).then_some(())
    });
    node_a.kill();
    let stored = eventually(RUN, "every event of agent two stored", || {
        let count = event_count(&b, &two);
        (count >= 6000).then_some(count)
    });
    assert_eq!(stored, 6000, "each event stored once across the failover");
    // It reconnected (to B: A is gone).
    failing_over.line("agent          (connected (connection 2))", START);
    let held_by = eventually(START, "agent two on B", || {
        agent_node(&b, &two).filter(|n| n == "b")
    });
    assert_eq!(held_by, "b");

    // Revoked through B: the agent's connection, on B, closes with 4003 and it stops.
    let (status, _) = api(
        &b,
        "POST",
        &format!("/api/agents/{two}/revoke"),
        ADMIN,
        None,
    );
    assert_eq!(status, 202);
    let exit = failing_over.wait(RUN);
    assert!(!exit.success());
    let output = failing_over.output();
    assert!(output.contains("4003"), "{output}");
    assert_eq!(event_count(&b, &two), 6000);

    // Once revoked, a new connection of the agent is refused at its hello with 4003,
    // before it can store anything.
    let mut again = agent(&[&b], "agent-two", "10", &[]);
    let exit = again.wait(RUN);
    assert!(!exit.success());
    let output = again.output();
    assert!(output.contains("4003"), "{output}");
    assert_eq!(event_count(&b, &two), 6000);

    // One agent, two processes: the first on C, then the second on B. B takes the
    // agent's ownership and tells C, which closes its connection with 4002 (replaced);
    // that agent stops, and its heartbeats before the close leave B the owner.
    let (_node_c, c) = node(&redis.url, "c", &project);
    let three = AgentAccount::new("agent-three").agent_id;
    let mut first = agent(&[&c], "agent-three", "10", &["--stay-connected", "60"]);
    first.line("agent          (connected (connection 1))", START);
    eventually(START, "agent three on C", || {
        agent_node(&b, &three).filter(|n| n == "c")
    });
    let second = agent(&[&b], "agent-three", "10", &["--stay-connected", "60"]);
    let exit = first.wait(RUN);
    assert!(!exit.success(), "{}", first.output());
    assert!(first.output().contains("4002"), "{}", first.output());
    let held_by = eventually(START, "agent three on B, as C sees it", || {
        agent_node(&c, &three)
    });
    assert_eq!(held_by, "b", "{}", second.output());
}

#[test]
fn a_heartbeat_refreshes_an_agents_ownership_only_on_the_node_that_holds_it() {
    let redis = TestRedis::start();
    let project = uuid::Uuid::new_v4().to_string();
    let (_node_a, a) = node_with(&redis.url, "a", &project, &["--heartbeat-seconds", "1"]);
    let one = AgentAccount::new("agent-one").agent_id;
    let owner = format!("bw:{project}:owner:{one}");
    let mut agent = agent(&[&a], "agent-one", "1", &["--stay-connected", "60"]);
    agent.line("agent          (connected (connection 1))", START);
    eventually(START, "agent one on A", || {
        agent_node(&a, &one).filter(|n| n == "a")
    });
    // Another node took the agent, and its notice to A has not come: A's heartbeats
    // must leave that node's ownership alone.
    assert_eq!(
        redis.command(&["SET", &owner, "elsewhere", "EX", "60"]),
        "OK"
    );
    let heartbeats = counter(&a, "brainwire_heartbeats_total");
    eventually(START, "two more heartbeats on A", || {
        (counter(&a, "brainwire_heartbeats_total") >= heartbeats + 2).then_some(())
    });
    assert_eq!(redis.command(&["GET", &owner]), "elsewhere");
    // The ownership gone (expired), A's next heartbeat takes it back.
    assert_eq!(redis.command(&["DEL", &owner]), "1");
    eventually(START, "A holding agent one again", || {
        (redis.command(&["GET", &owner]) == "a").then_some(())
    });
    agent.kill();
}

#[test]
fn the_api_wants_the_admin_token_and_names_what_it_refuses() {
    let redis = TestRedis::start();
    let project = uuid::Uuid::new_v4().to_string();
    let (_node, addr) = node(&redis.url, "solo", &project);
    assert_eq!(api(&addr, "GET", "/api/agents", "wrong-token", None).0, 401);
    let unknown = json!({"agent_id": "nobody", "action": "cancel_task"});
    assert_eq!(
        api(&addr, "POST", "/api/commands", ADMIN, Some(&unknown)).0,
        404
    );
    let one = AgentAccount::new("agent-one").agent_id;
    let long_action = json!({"agent_id": one, "action": "x".repeat(81)});
    assert_eq!(
        api(&addr, "POST", "/api/commands", ADMIN, Some(&long_action)).0,
        422
    );
    assert_eq!(api(&addr, "GET", "/api/commands/none", ADMIN, None).0, 404);
    // A command for an agent that is not connected waits, pending, for it.
    let waiting = json!({"agent_id": one, "action": "retry_task"});
    let (status, created) = api(&addr, "POST", "/api/commands", ADMIN, Some(&waiting));
    assert_eq!(status, 202);
    let id = created["command_id"].as_str().unwrap();
    let (_, record) = api(&addr, "GET", &format!("/api/commands/{id}"), ADMIN, None);
    assert_eq!(record["status"], "pending");
}

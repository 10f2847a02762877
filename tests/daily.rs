//! The fact of the day end to end: `/daily` through the loopback Discord stand-in, and
//! the posting loop of a bot with a store in a temporary data directory.

use std::time::Duration;

use jiff::Timestamp;
use parley::config::DailyConfig;
use serde_json::{Value, json};

use crate::discord::{
    Running, assert_pings_no_one, interaction_response, is_post_to, posts_to, settings, start_on,
};
use crate::standin::{self, Discord};

const WAIT: Duration = Duration::from_secs(10);

async fn start(discord: &Discord, data_dir: &std::path::Path) -> Running {
    start_on(
        discord.clone(),
        settings(),
        DailyConfig::default(),
        Some(data_dir.to_path_buf()),
    )
    .await
}

/// The current UTC time of day as `HH:MM`: a post set for it is due at once (it is
/// within the catch-up window), so the test need not wait for a minute to turn.
fn this_minute() -> String {
    let now = Timestamp::now().to_string();
    // RFC 3339: 2024-06-15T09:05:07.123Z
    now[11..16].to_string()
}

fn set(channel: u64, time: &str, zone: Option<&str>) -> Value {
    let mut options = vec![
        json!({"name": "channel", "type": 7, "value": channel.to_string()}),
        json!({"name": "time", "type": 3, "value": time}),
    ];
    if let Some(zone) = zone {
        options.push(json!({"name": "timezone", "type": 3, "value": zone}));
    }
    json!([{"name": "set", "type": 1, "options": options}])
}

/// Makes Discord refuse parley's next post in GENERAL with `status` and `code`, then
/// has an admin schedule the daily post there for this minute (due at once).
async fn post_now_failing_first(bot: &Running, status: u16, code: u32) {
    let path = format!("/channels/{}/messages", standin::GENERAL);
    bot.discord.fail_next("POST", &path, status, code);
    daily(
        bot,
        standin::GENERAL,
        standin::ADMIN,
        set(standin::GENERAL, &this_minute(), Some("UTC")),
    )
    .await;
}

fn subcommand(name: &str) -> Value {
    json!([{"name": name, "type": 1, "options": []}])
}

/// Runs `/daily` as `user` in `channel` and returns the ephemeral reply's text.
async fn daily(bot: &Running, channel: u64, user: u64, options: Value) -> String {
    let i = bot
        .discord
        .slash_command(channel, user, "daily", options)
        .await;
    let response = interaction_response(&bot.discord, i.id).await;
    let data = &response["data"];
    assert_eq!(
        data["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "ephemeral: {response}"
    );
    assert_pings_no_one(data);
    let embed = &data["embeds"][0];
    format!(
        "{}\n{}",
        embed["title"].as_str().unwrap_or(""),
        embed["description"].as_str().unwrap_or("")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daily_post_is_sent_once_and_not_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let discord = Discord::start().await;
    let bot = start(&discord, dir.path()).await;
    let utc = jiff::tz::TimeZone::UTC;
    let day_before = parley::daily::local_date(Timestamp::now(), &utc);
    let reply = daily(
        &bot,
        standin::GENERAL,
        standin::ADMIN,
        set(standin::GENERAL, &this_minute(), Some("utc")),
    )
    .await;
    assert!(reply.contains("every day at"), "{reply}");
    assert!(reply.contains(" UTC"), "the zone's canonical name: {reply}");
    assert!(reply.contains("<t:"), "{reply}");

    let post = discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    assert_eq!(post.status, 200, "{:?}", post.body);
    let body = &post.body;
    let title = body["embeds"][0]["title"].as_str().unwrap_or_default();
    assert!(
        title == "Fact of the day" || title.starts_with("On this day, "),
        "{title}"
    );
    assert!(
        body["embeds"][0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("\n> ")),
        "the citation is quoted: {body}"
    );
    // The post is for the day the time was set on (a test run across midnight UTC
    // still posts for that day, within the catch-up window).
    assert_eq!(
        body["nonce"],
        json!(parley::daily::nonce(standin::GUILD_ID, day_before))
    );
    assert_eq!(body["enforce_nonce"], json!(true));
    assert_pings_no_one(body);
    assert_eq!(discord.messages_in(standin::GENERAL).len(), 1);

    let shown = daily(&bot, standin::GENERAL, standin::ADMIN, subcommand("show")).await;
    assert!(
        shown.contains(&format!("<#{}>", standin::GENERAL)),
        "{shown}"
    );
    assert!(shown.contains("Time zone: UTC"), "{shown}");
    assert!(shown.contains("<t:"), "{shown}");
    assert!(shown.contains("Facts left before any repeats"), "{shown}");
    let preview = daily(
        &bot,
        standin::GENERAL,
        standin::ADMIN,
        subcommand("preview"),
    )
    .await;
    assert!(
        preview.starts_with("Fact of the day") || preview.starts_with("On this day"),
        "{preview}"
    );
    bot.stop().await;

    // A restart on the same data: today's post was made, so nothing more is posted.
    let bot = start(&discord, dir.path()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(posts_to(&discord, standin::GENERAL).len(), 1);
    assert_eq!(discord.messages_in(standin::GENERAL).len(), 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_settings_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let discord = Discord::start().await;
    let bot = start(&discord, dir.path()).await;
    let (general, admin) = (standin::GENERAL, standin::ADMIN);

    let reply = daily(&bot, general, admin, set(general, "25:00", None)).await;
    assert!(reply.contains("Nothing was changed"), "{reply}");
    assert!(reply.contains("00 to 23"), "{reply}");
    let reply = daily(
        &bot,
        general,
        admin,
        set(general, "09:00", Some("Mars/Olympus")),
    )
    .await;
    assert!(reply.contains("Nothing was changed"), "{reply}");
    assert!(reply.contains("not a known IANA time zone"), "{reply}");
    // parley may not send messages in the locked channel.
    let reply = daily(
        &bot,
        standin::LOCKED,
        admin,
        set(standin::LOCKED, "09:00", None),
    )
    .await;
    assert!(reply.contains("cannot post"), "{reply}");

    let shown = daily(&bot, general, admin, subcommand("show")).await;
    assert!(shown.contains("not set up"), "{shown}");
    let off = daily(&bot, general, admin, subcommand("off")).await;
    assert!(off.contains("not set up"), "{off}");
    for channel in [general, standin::LOCKED] {
        assert!(posts_to(&discord, channel).is_empty());
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_is_not_offered_to_members_without_manage_server() {
    let discord = Discord::start().await;
    let bot = start_on(discord.clone(), settings(), DailyConfig::default(), None).await;
    let put = discord
        .wait_request(WAIT, |r| r.method == "PUT" && r.path.ends_with("/commands"))
        .await;
    let sent = put.body.as_array().unwrap();
    let daily = sent.iter().find(|c| c["name"] == "daily").unwrap();
    // MANAGE_GUILD (1 << 5), sent as an integer; Discord answers it as a string.
    assert_eq!(daily["default_member_permissions"], json!(32));
    let registered = discord.registered_commands(None);
    let command = registered.iter().find(|c| c["name"] == "daily").unwrap();
    assert_eq!(command["default_member_permissions"], json!("32"));
    assert_eq!(command["contexts"], json!([0]), "servers only");

    assert!(
        !discord
            .is_offered(standin::GENERAL, standin::ASKER, "daily")
            .await
    );
    assert!(
        discord
            .is_offered(standin::GENERAL, standin::ADMIN, "daily")
            .await
    );
    assert!(
        discord
            .is_offered(standin::GENERAL, standin::OWNER_USER_ID, "daily")
            .await
    );
    assert!(
        discord
            .is_offered(standin::GENERAL, standin::ASKER, "ask")
            .await,
        "commands without default_member_permissions are for everyone"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_is_for_managers_and_completes_time_zones() {
    let dir = tempfile::tempdir().unwrap();
    let discord = Discord::start().await;
    let bot = start(&discord, dir.path()).await;

    // A server whose integration settings open /daily to everyone: Discord offers it to a
    // member without Manage Server, and the handler refuses them.
    discord.allow_command(standin::GUILD_ID, "daily", standin::GUILD_ID);
    assert!(
        discord
            .is_offered(standin::GENERAL, standin::ASKER, "daily")
            .await
    );
    let reply = daily(
        &bot,
        standin::GENERAL,
        standin::ASKER,
        set(standin::GENERAL, "09:00", None),
    )
    .await;
    assert!(reply.contains("Manage Server"), "{reply}");
    let shown = daily(&bot, standin::GENERAL, standin::ADMIN, subcommand("show")).await;
    assert!(shown.contains("not set up"), "nothing changed: {shown}");

    let i = discord
        .autocomplete(
            standin::GENERAL,
            standin::ADMIN,
            "daily",
            json!([{"name": "set", "type": 1, "options": [
                {"name": "timezone", "type": 3, "value": "kyi", "focused": true},
            ]}]),
        )
        .await;
    let response = interaction_response(&discord, i.id).await;
    let choices = response["data"]["choices"].as_array().unwrap();
    assert!(!choices.is_empty() && choices.len() <= 25, "{response}");
    assert!(
        choices.iter().any(|c| c["value"] == "Europe/Kyiv"),
        "{response}"
    );

    let reply = daily(
        &bot,
        standin::GENERAL,
        standin::ADMIN,
        set(standin::GENERAL, "09:00", Some("Europe/Kyiv")),
    )
    .await;
    assert!(reply.contains("09:00 Europe/Kyiv"), "{reply}");
    let off = daily(&bot, standin::GENERAL, standin::ADMIN, subcommand("off")).await;
    assert!(off.contains("is off"), "{off}");
    let shown = daily(&bot, standin::GENERAL, standin::ADMIN, subcommand("show")).await;
    assert!(shown.contains("It is off"), "{shown}");
    bot.stop().await;
}

/// `/daily set` used in one channel naming another: parley works out its permissions
/// there from the channel's overwrites, the server's roles and its own member.
#[tokio::test(flavor = "multi_thread")]
async fn daily_set_checks_that_parley_can_post_in_the_channel_named() {
    let dir = tempfile::tempdir().unwrap();
    let discord = Discord::start().await;
    let bot = start(&discord, dir.path()).await;
    let (general, admin) = (standin::GENERAL, standin::ADMIN);
    let not_set_up = || async {
        let shown = daily(&bot, general, admin, subcommand("show")).await;
        assert!(shown.contains("not set up"), "nothing changed: {shown}");
    };

    // #briefings: the bot's role may send there although @everyone may not, but an
    // overwrite for parley itself denies it Embed Links.
    let reply = daily(&bot, general, admin, set(standin::BRIEFINGS, "09:00", None)).await;
    assert!(
        reply.contains(&format!("cannot post in <#{}>", standin::BRIEFINGS)),
        "{reply}"
    );
    assert!(reply.contains("Nothing was changed"), "{reply}");
    let looked_up = |path: String| {
        discord
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.ends_with(&path) && r.status == 200)
    };
    assert!(looked_up(format!("/channels/{}", standin::BRIEFINGS)));
    assert!(looked_up(format!("/guilds/{}", standin::GUILD_ID)));
    assert!(looked_up(format!(
        "/guilds/{}/members/{}",
        standin::GUILD_ID,
        standin::BOT_USER_ID
    )));
    not_set_up().await;
    // #announcements denies parley's role Send Messages; #staff is hidden from parley
    // (Discord answers "Missing Access" for it).
    for channel in [standin::LOCKED, standin::STAFF] {
        let reply = daily(&bot, general, admin, set(channel, "09:00", None)).await;
        assert!(
            reply.contains(&format!("cannot post in <#{channel}>")),
            "{reply}"
        );
    }
    not_set_up().await;

    // #digest: read-only for @everyone, but parley's role may send there.
    let reply = daily(&bot, general, admin, set(standin::DIGEST, "09:00", None)).await;
    assert!(reply.contains("every day at 09:00"), "{reply}");
    let shown = daily(&bot, general, admin, subcommand("show")).await;
    assert!(
        shown.contains(&format!("Channel: <#{}>", standin::DIGEST)),
        "{shown}"
    );

    // Discord failing to describe the server: nothing is changed, and the admin is told.
    let path = format!("/guilds/{}", standin::GUILD_ID);
    discord.fail_next("GET", &path, 503, 0);
    let reply = daily(
        &bot,
        general,
        admin,
        set(standin::ASK_CHANNEL, "10:00", None),
    )
    .await;
    assert!(reply.contains("Nothing was changed"), "{reply}");
    assert!(reply.contains("could not check"), "{reply}");
    let shown = daily(&bot, general, admin, subcommand("show")).await;
    assert!(
        shown.contains(&format!("Channel: <#{}>", standin::DIGEST)) && shown.contains("09:00"),
        "{shown}"
    );
    for channel in [standin::BRIEFINGS, standin::LOCKED, standin::STAFF] {
        assert!(posts_to(&discord, channel).is_empty());
    }
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_channel_gone_for_good_turns_the_daily_post_off() {
    let dir = tempfile::tempdir().unwrap();
    let discord = Discord::start().await;
    let bot = start(&discord, dir.path()).await;
    post_now_failing_first(&bot, 404, 10003).await;
    let failed = discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    assert_eq!(failed.status, 404);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let shown = daily(&bot, standin::GENERAL, standin::ADMIN, subcommand("show")).await;
        if shown.contains("It is off") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{shown}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(posts_to(&discord, standin::GENERAL).len(), 1, "not retried");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsent_post_is_resent_with_its_nonce_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let discord = Discord::start().await;
    let bot = start(&discord, dir.path()).await;
    post_now_failing_first(&bot, 500, 0).await;
    let failed = discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    assert_eq!(failed.status, 500);
    // Stopped before the retry: the claim stays unsent.
    bot.stop().await;
    assert!(discord.messages_in(standin::GENERAL).is_empty());

    let bot = start(&discord, dir.path()).await;
    let sent = discord
        .wait_request(WAIT, |r| is_post_to(standin::GENERAL)(r) && r.status == 200)
        .await;
    assert_eq!(sent.body["nonce"], failed.body["nonce"]);
    assert_eq!(sent.body["enforce_nonce"], json!(true));
    assert_eq!(
        sent.body["embeds"][0]["description"], failed.body["embeds"][0]["description"],
        "the same fact"
    );
    assert_eq!(discord.messages_in(standin::GENERAL).len(), 1);
    bot.stop().await;
}

/// Parley posts, then the claim is made unsent, as a crash between Discord taking the
/// post and parley recording it leaves it, and Discord forgets the nonce, as it does
/// after a few minutes: on restart parley finds its post in the channel and does not
/// post again.
#[tokio::test(flavor = "multi_thread")]
async fn a_post_discord_took_before_a_crash_is_found_and_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let discord = Discord::start().await;
    let bot = start(&discord, dir.path()).await;
    daily(
        &bot,
        standin::GENERAL,
        standin::ADMIN,
        set(standin::GENERAL, &this_minute(), Some("UTC")),
    )
    .await;
    discord
        .wait_request(WAIT, |r| is_post_to(standin::GENERAL)(r) && r.status == 200)
        .await;
    bot.stop().await;
    let posted = discord.messages_in(standin::GENERAL);
    assert_eq!(posted.len(), 1);

    let db = rusqlite::Connection::open(dir.path().join("parley.sqlite3")).unwrap();
    let unsent = db
        .execute(
            "UPDATE daily_claims SET sent_at = NULL, message_id = NULL",
            [],
        )
        .unwrap();
    assert_eq!(unsent, 1);
    drop(db);
    discord.forget_nonces();

    let bot = start(&discord, dir.path()).await;
    let listed = format!("/channels/{}/messages", standin::GENERAL);
    discord
        .wait_request(WAIT, |r| r.method == "GET" && r.path.ends_with(&listed))
        .await;
    let store = parley::store::SqliteStore::open(dir.path()).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while !parley::store::Store::unsent_claims(&store)
        .unwrap()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the claim is never marked sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Time for a resend, had one been started.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(discord.messages_in(standin::GENERAL), posted, "posted once");
    assert_eq!(
        posts_to(&discord, standin::GENERAL).len(),
        1,
        "no second post was attempted"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_is_retried_the_same_day() {
    let dir = tempfile::tempdir().unwrap();
    let discord = Discord::start().await;
    let bot = start(&discord, dir.path()).await;
    post_now_failing_first(&bot, 503, 0).await;
    // The first retry comes after a few seconds.
    let sent = discord
        .wait_request(Duration::from_secs(20), |r| {
            is_post_to(standin::GENERAL)(r) && r.status == 200
        })
        .await;
    assert_eq!(sent.body["enforce_nonce"], json!(true));
    assert_eq!(posts_to(&discord, standin::GENERAL).len(), 2);
    assert_eq!(discord.messages_in(standin::GENERAL).len(), 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn servers_listed_in_the_config_get_their_post_without_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let discord = Discord::start().await;
    let config = DailyConfig {
        channels: vec![parley::config::DailyChannel {
            guild: parley::config::Snowflake(standin::GUILD_ID),
            channel: parley::config::Snowflake(standin::GENERAL),
            time: Some(this_minute()),
            zone: None,
        }],
        ..DailyConfig::default()
    };
    let bot = start_on(
        discord.clone(),
        settings(),
        config,
        Some(dir.path().to_path_buf()),
    )
    .await;
    let post = discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    assert_eq!(post.status, 200);
    assert_pings_no_one(&post.body);
    let shown = daily(&bot, standin::GENERAL, standin::ADMIN, subcommand("show")).await;
    assert!(
        shown.contains("Time zone: UTC"),
        "the default zone: {shown}"
    );
    bot.stop().await;
}

/// The real executable killed with SIGKILL at many points around its post (before the
/// gateway is up, while claiming, while sending, after), then restarted on the same
/// store: the day still gets exactly one post, every attempt carrying the same nonce.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_parley_around_its_post_never_posts_twice_or_skips_the_day() {
    let discord = Discord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("parley.toml");
    std::fs::write(
        &config,
        format!(
            "[daily]\ncatch_up_hours = 3.0\nchannels = [{{ guild = \"{}\", channel = \"{}\", time = \"{}\", zone = \"UTC\" }}]\n\n[discord]\nuser_cooldown_seconds = 0.0\nchannel_cooldown_seconds = 0.0\n",
            standin::GUILD_ID,
            standin::GENERAL,
            this_minute()
        ),
    )
    .unwrap();
    let spawn = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_parley"))
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .current_dir(crate::util::root())
            .env("DISCORD_TOKEN", crate::discord::TOKEN)
            .env("DISCORD_API_BASE", discord.base_url())
            .env("PARLEY_DATA_DIR", dir.path().join("data"))
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("parley starts")
    };
    // Kill points from "still loading" to "well after the post".
    for delay_ms in [0, 50, 150, 300, 450, 600, 800, 1000, 1300, 1700, 2500] {
        let mut child = spawn();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        child.kill().await.expect("SIGKILL");
    }
    // A last run, left to finish its work.
    let mut child = spawn();
    discord
        .wait_request(WAIT, is_post_to(standin::GENERAL))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().await.expect("SIGKILL");

    let posted = discord.messages_in(standin::GENERAL);
    assert_eq!(posted.len(), 1, "exactly one post for the day: {posted:#?}");
    let attempts = posts_to(&discord, standin::GENERAL);
    let nonces: std::collections::HashSet<String> = attempts
        .iter()
        .map(|b| b["nonce"].as_str().expect("a nonce").to_string())
        .collect();
    assert_eq!(nonces.len(), 1, "every attempt resends the same claim");
    assert!(attempts.iter().all(|b| b["enforce_nonce"] == json!(true)));
}

/// The posting loop's passes over simulated days, against the stand-in and a real
/// SQLite file: one post a day however often the loop wakes; a restart (a new process
/// state on the same file) in the minute of the post adds none; a bot down through the
/// post time posts on return within the catch-up window, and not after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_posts_once_a_day_catches_up_within_the_window_and_not_after() {
    use std::sync::Arc;

    use parley::config::Shards;
    use parley::discord::daily::{Daily, tick};
    use parley::store::{GuildSettings, SqliteStore, Store};

    let discord = Discord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let http = Arc::new(
        poise::serenity_prelude::HttpBuilder::new(crate::discord::TOKEN)
            .proxy(discord.base_url())
            .ratelimiter_disabled(true)
            .build(),
    );
    let engine = crate::discord::engine();
    // A process's state: the store opened afresh, and the loop's own memory.
    let process = || {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
        Arc::new(Daily::new(store, DailyConfig::default(), Shards::Auto))
    };
    let daily = process();
    daily
        .store
        .set_settings(&GuildSettings {
            guild: standin::GUILD_ID,
            channel: standin::GENERAL,
            time: "09:00".parse().unwrap(),
            zone: "Europe/Kyiv".into(),
            enabled: true,
        })
        .unwrap();
    let at = |s: &str| -> Timestamp { s.parse().unwrap() };
    let posts = || posts_to(&discord, standin::GENERAL).len();
    let settle = || tokio::time::sleep(Duration::from_millis(400));

    // Day 1 (Kyiv is UTC+2 in January): nothing before 09:00 local, one post after,
    // however many passes.
    tick(&http, &engine, &daily, at("2030-01-10T06:59:00Z"))
        .await
        .unwrap();
    settle().await;
    assert_eq!(posts(), 0);
    for t in [
        "2030-01-10T07:00:00Z",
        "2030-01-10T07:00:20Z",
        "2030-01-10T08:30:00Z",
    ] {
        tick(&http, &engine, &daily, at(t)).await.unwrap();
        settle().await;
    }
    assert_eq!(posts(), 1);

    // Day 2: a restart in the minute of the post, then passes on both sides of it.
    tick(&http, &engine, &daily, at("2030-01-11T07:00:05Z"))
        .await
        .unwrap();
    settle().await;
    let daily = process();
    tick(&http, &engine, &daily, at("2030-01-11T07:00:40Z"))
        .await
        .unwrap();
    settle().await;
    assert_eq!(posts(), 2);

    // Day 3: down through the post time, back 2 h 50 min later: one catch-up post.
    let daily = process();
    tick(&http, &engine, &daily, at("2030-01-12T09:50:00Z"))
        .await
        .unwrap();
    settle().await;
    assert_eq!(posts(), 3);

    // Day 4: back 3 h 10 min later, past the window: nothing until day 5.
    let daily = process();
    let next = tick(&http, &engine, &daily, at("2030-01-13T10:10:00Z"))
        .await
        .unwrap();
    settle().await;
    assert_eq!(posts(), 3);
    assert_eq!(next, Some(at("2030-01-14T07:00:00Z")));
    tick(&http, &engine, &daily, at("2030-01-14T07:00:00Z"))
        .await
        .unwrap();
    settle().await;
    assert_eq!(posts(), 4);

    // Four days, four different facts, and never a repeated nonce.
    let bodies = posts_to(&discord, standin::GENERAL);
    let nonces: std::collections::HashSet<_> = bodies.iter().map(|b| b["nonce"].clone()).collect();
    assert_eq!(nonces.len(), 4);
    let texts: std::collections::HashSet<_> = bodies
        .iter()
        .map(|b| b["embeds"][0]["description"].clone())
        .collect();
    assert_eq!(texts.len(), 4);
    discord.assert_bodies_valid();
}

/// Servers sharing a post time, all due in one pass of the loop: each gets exactly one
/// post, and the posts start `STAGGER` apart rather than all at once. One of them is
/// answered 429 first: with an API base set (as here), serenity's rate limiter is off and
/// its error drops `retry_after`, so the loop's own backoff (5 s, longer than the
/// stand-in's `retry_after`) retries it, with the same nonce, and the others go ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_servers_due_at_once_get_one_post_each_started_apart() {
    use std::sync::Arc;
    use std::time::Instant;

    use parley::config::Shards;
    use parley::discord::daily::{Daily, STAGGER, tick};
    use parley::store::{GuildSettings, SqliteStore, Store};

    let discord = Discord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let http = Arc::new(
        poise::serenity_prelude::HttpBuilder::new(crate::discord::TOKEN)
            .proxy(discord.base_url())
            .ratelimiter_disabled(true)
            .build(),
    );
    let engine = crate::discord::engine();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let daily = Arc::new(Daily::new(store, DailyConfig::default(), Shards::Auto));
    let servers: Vec<(u64, u64)> = (1..=standin::OTHER_GUILDS)
        .map(standin::other_guild)
        .collect();
    for &(guild, channel) in &servers {
        daily
            .store
            .set_settings(&GuildSettings {
                guild,
                channel,
                time: "09:00".parse().unwrap(),
                zone: "UTC".into(),
                enabled: true,
            })
            .unwrap();
    }
    let (_, limited) = servers[4];
    discord.fail_next("POST", &format!("/channels/{limited}/messages"), 429, 0);
    let at = |s: &str| -> Timestamp { s.parse().unwrap() };

    let started = Instant::now();
    tick(&http, &engine, &daily, at("2030-01-10T09:00:00Z"))
        .await
        .unwrap();
    // The rate-limited post is retried after the loop's backoff.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while servers
        .iter()
        .any(|(_, channel)| discord.messages_in(*channel).is_empty())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every server got its post"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Another pass in the same minute posts nothing more.
    tick(&http, &engine, &daily, at("2030-01-10T09:00:30Z"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let requests = discord.requests();
    let mut first_attempts = Vec::new();
    for &(guild, channel) in &servers {
        assert_eq!(discord.messages_in(channel).len(), 1, "guild {guild}");
        let attempts: Vec<_> = requests.iter().filter(|r| is_post_to(channel)(r)).collect();
        let expected = if channel == limited { 2 } else { 1 };
        assert_eq!(attempts.len(), expected, "guild {guild}");
        assert_eq!(
            attempts[0].body["nonce"],
            json!(parley::daily::nonce(guild, "2030-01-10".parse().unwrap()))
        );
        first_attempts.push(attempts[0].at);
    }
    // A post delayed by k × STAGGER cannot arrive before then; so, whatever the order,
    // the k-th post to arrive (from 0) arrives at least k × STAGGER after the pass began.
    first_attempts.sort();
    for (k, arrived) in first_attempts.iter().enumerate() {
        let earliest = STAGGER * k as u32;
        assert!(
            arrived.duration_since(started) >= earliest,
            "post {k} arrived {:?} after the pass began, before its {earliest:?}",
            arrived.duration_since(started)
        );
    }

    let attempts: Vec<_> = requests.iter().filter(|r| is_post_to(limited)(r)).collect();
    assert_eq!((attempts[0].status, attempts[1].status), (429, 200));
    assert!(
        attempts[1].at.duration_since(attempts[0].at)
            >= Duration::from_secs_f64(standin::RETRY_AFTER_SECS)
    );
    assert_eq!(attempts[1].body["nonce"], attempts[0].body["nonce"]);
    assert_eq!(attempts[1].body["enforce_nonce"], json!(true));
    discord.assert_bodies_valid();
}

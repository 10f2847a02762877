//! The Gateway: sockets, the session (sequence numbers, RESUME with replay), and the delivery of
//! dispatches under the identified intents.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use serenity::model::event::Event;
use serenity::model::gateway::GatewayIntents;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{BOT_USER_ID, Inner, world};

/// The path of the Gateway's URL (serenity appends `?v=10`).
pub(super) const PATH: &str = "/gateway";
/// What HELLO asks for, as Discord does.
const HEARTBEAT_INTERVAL_MS: u64 = 41_250;

/// Close codes Discord uses.
const UNKNOWN_OPCODE: u16 = 4001;
const DECODE_ERROR: u16 = 4002;

#[derive(Default)]
pub(super) struct Gateway {
    /// The newest socket; older ones are closed when a new one opens.
    socket: Option<Socket>,
    sockets_opened: u64,
    session: Option<Session>,
    /// Dispatches waiting for the bot to identify or resume.
    pending: VecDeque<Dispatch>,
    /// The IDENTIFY payloads received, in order.
    pub identifies: Vec<Value>,
    /// Sessions resumed.
    pub resumes: usize,
}

struct Socket {
    id: u64,
    tx: mpsc::UnboundedSender<Outbound>,
    /// Identified or resumed, and not told to go away: dispatches go out on it.
    live: bool,
}

struct Session {
    id: String,
    seq: u64,
    intents: GatewayIntents,
    /// Every dispatch sent, by sequence number, for replay on RESUME.
    sent: Vec<(u64, String)>,
}

/// A dispatch (op 0) before it gets a sequence number.
pub(super) struct Dispatch {
    name: &'static str,
    data: Value,
}

impl Dispatch {
    /// A dispatch `name` with payload `data`. Panics if serenity would not read it as that event
    /// (it would silently drop it as unknown).
    pub(super) fn new(name: &'static str, data: Value) -> Dispatch {
        let frame = json!({"t": name, "d": data});
        match serde_json::from_value::<Event>(frame) {
            Ok(Event::Unknown(unknown)) => panic!(
                "serenity does not read this {name} dispatch: {}",
                unknown.value
            ),
            Ok(_) => Dispatch { name, data },
            Err(e) => panic!("serenity does not read this {name} dispatch ({e}): {data}"),
        }
    }
}

enum Outbound {
    Text(String),
    Close(u16, &'static str),
    /// Close the TCP connection with a reset, without a close frame.
    Reset,
}

impl Gateway {
    /// Sends a dispatch now if the bot is connected, else when it identifies or resumes.
    /// Returns when it was sent (or queued).
    pub(super) fn dispatch(&mut self, dispatch: Dispatch) -> Instant {
        let now = Instant::now();
        if self.socket.as_ref().is_some_and(|s| s.live) && self.session.is_some() {
            self.send_dispatch(dispatch);
        } else {
            self.pending.push_back(dispatch);
        }
        now
    }

    /// Sends op 7 on the live socket; false if there is none.
    pub(super) fn send_reconnect(&mut self) -> bool {
        self.tell_live_socket(Outbound::Text(json!({"op": 7, "d": null}).to_string()))
    }

    /// Resets the live socket; false if there is none.
    pub(super) fn reset_socket(&mut self) -> bool {
        self.tell_live_socket(Outbound::Reset)
    }

    /// Sends op 9 on the live socket, forgetting the session unless `resumable`; false if there
    /// is no live socket.
    pub(super) fn invalidate_session(&mut self, resumable: bool) -> bool {
        let sent = self.tell_live_socket(Outbound::Text(op9(resumable)));
        if sent && !resumable {
            self.session = None;
        }
        sent
    }

    /// Sends `message` on the live socket, which is then no longer live; false if there is none.
    fn tell_live_socket(&mut self, message: Outbound) -> bool {
        let Some(socket) = self.socket.as_mut().filter(|s| s.live) else {
            return false;
        };
        let _ = socket.tx.send(message);
        socket.live = false;
        true
    }

    fn send_dispatch(&mut self, dispatch: Dispatch) {
        let (Some(socket), Some(session)) = (&self.socket, &mut self.session) else {
            unreachable!("send_dispatch without a socket and a session");
        };
        let Some(data) = as_received(dispatch.name, dispatch.data, session.intents) else {
            return;
        };
        session.seq += 1;
        let frame = json!({"op": 0, "s": session.seq, "t": dispatch.name, "d": data}).to_string();
        session.sent.push((session.seq, frame.clone()));
        // A socket that went away meanwhile loses the frame; RESUME replays it.
        let _ = socket.tx.send(Outbound::Text(frame));
    }

    fn flush_pending(&mut self) {
        while let Some(dispatch) = self.pending.pop_front() {
            self.send_dispatch(dispatch);
        }
    }

    fn send(&self, socket: u64, text: String) {
        if let Some(current) = self.socket.as_ref().filter(|s| s.id == socket) {
            let _ = current.tx.send(Outbound::Text(text));
        }
    }

    fn close(&self, socket: u64, code: u16, reason: &'static str) {
        if let Some(current) = self.socket.as_ref().filter(|s| s.id == socket) {
            let _ = current.tx.send(Outbound::Close(code, reason));
        }
    }

    /// Handles a frame the bot sent on socket `socket`.
    fn receive(&mut self, socket: u64, text: &str, gateway_url: &str) {
        if self.socket.as_ref().is_none_or(|s| s.id != socket) {
            return;
        }
        let Ok(payload) = serde_json::from_str::<Value>(text) else {
            return self.close(socket, DECODE_ERROR, "Error while decoding payload.");
        };
        match payload["op"].as_u64() {
            Some(1) => self.send(socket, json!({"op": 11}).to_string()),
            Some(2) => self.identify(payload["d"].clone(), gateway_url),
            Some(6) => self.resume(socket, &payload["d"]),
            // Presence update, voice state update, request guild members, request soundboard
            // sounds: nothing to answer in this world.
            Some(3 | 4 | 8 | 31) => {}
            _ => self.close(socket, UNKNOWN_OPCODE, "Unknown opcode."),
        }
    }

    fn identify(&mut self, identify: Value, gateway_url: &str) {
        let intents = identify["intents"]
            .as_u64()
            .map_or_else(GatewayIntents::empty, GatewayIntents::from_bits_truncate);
        let n = self.identifies.len() as u128 + 1;
        let session_id = format!(
            "{:032x}",
            n.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834)
        );
        self.identifies.push(identify);
        self.session = Some(Session {
            id: session_id.clone(),
            seq: 0,
            intents,
            sent: Vec::new(),
        });
        if let Some(current) = self.socket.as_mut() {
            current.live = true;
        }
        self.send_dispatch(Dispatch::new(
            "READY",
            world::ready(&session_id, gateway_url),
        ));
        for guild in world::guild_ids() {
            self.send_dispatch(Dispatch::new("GUILD_CREATE", world::guild_create(guild)));
        }
        self.flush_pending();
    }

    fn resume(&mut self, socket: u64, resume: &Value) {
        let resumable = self.session.as_ref().is_some_and(|session| {
            resume["session_id"] == session.id.as_str()
                && resume["seq"].as_u64().is_some_and(|seq| seq <= session.seq)
        });
        if !resumable {
            self.session = None;
            return self.send(socket, op9(false));
        }
        let session = self.session.as_ref().expect("checked above");
        let after = resume["seq"].as_u64().expect("checked above");
        for (_, frame) in session.sent.iter().filter(|(seq, _)| *seq > after) {
            self.send(socket, frame.clone());
        }
        if let Some(current) = self.socket.as_mut() {
            current.live = true;
        }
        self.resumes += 1;
        self.send_dispatch(Dispatch::new("RESUMED", json!({})));
        self.flush_pending();
    }
}

fn op9(resumable: bool) -> String {
    json!({"op": 9, "d": resumable}).to_string()
}

/// The dispatch as a bot with `intents` receives it, or `None` if it does not: message events
/// need GUILD_MESSAGES or DIRECT_MESSAGES, and without MESSAGE_CONTENT a guild message's content,
/// embeds, attachments, components and poll are blank unless the bot wrote it or is mentioned.
fn as_received(name: &str, mut data: Value, intents: GatewayIntents) -> Option<Value> {
    if !name.starts_with("MESSAGE_") {
        return Some(data);
    }
    let in_guild = data.get("guild_id").is_some();
    let needed = if in_guild {
        GatewayIntents::GUILD_MESSAGES
    } else {
        GatewayIntents::DIRECT_MESSAGES
    };
    if !intents.contains(needed) {
        return None;
    }
    let by_bot = world::id_of(&data["author"], "id") == BOT_USER_ID;
    let mentions_bot = data["mentions"]
        .as_array()
        .is_some_and(|users| users.iter().any(|u| world::id_of(u, "id") == BOT_USER_ID));
    let content_shown = intents.contains(GatewayIntents::MESSAGE_CONTENT);
    if name != "MESSAGE_DELETE" && in_guild && !content_shown && !by_bot && !mentions_bot {
        data["content"] = json!("");
        data["embeds"] = json!([]);
        data["attachments"] = json!([]);
        data["components"] = json!([]);
        if let Some(message) = data.as_object_mut() {
            message.remove("poll");
        }
    }
    Some(data)
}

/// Whether the connection's HTTP request is for the Gateway's path (read without consuming it).
pub(super) async fn is_gateway_request(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 256];
    // The request line nearly always arrives whole in the first segment; allow a few more.
    for _ in 0..50 {
        let Ok(n) = stream.peek(&mut buf).await else {
            return false;
        };
        if n == 0 {
            return false;
        }
        if let Some(line_end) = buf[..n].windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..line_end]);
            let target = line.split(' ').nth(1).unwrap_or("");
            let path = target.split('?').next().unwrap_or("");
            return path == PATH;
        }
        if n == buf.len() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    false
}

/// Runs one Gateway socket: HELLO, then the bot's frames in and the stand-in's frames out.
pub(super) async fn serve_connection(inner: Arc<Inner>, stream: TcpStream) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = inner.update(|state| {
        let gateway = &mut state.gateway;
        gateway.sockets_opened += 1;
        gateway.socket = Some(Socket {
            id: gateway.sockets_opened,
            tx,
            live: false,
        });
        gateway.sockets_opened
    });
    let hello = json!({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}});
    if ws.send(Message::Text(hello.to_string())).await.is_ok() {
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(Outbound::Text(text)) => {
                        if ws.send(Message::Text(text)).await.is_err() {
                            break;
                        }
                    }
                    Some(Outbound::Close(code, reason)) => {
                        let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
                        let _ = ws.close(Some(frame)).await;
                        break;
                    }
                    Some(Outbound::Reset) => {
                        let _ = ws.get_ref().set_zero_linger();
                        break;
                    }
                    // A newer socket replaced this one.
                    None => break,
                },
                frame = ws.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        inner.update(|state| state.gateway.receive(id, &text, &inner.gateway_url));
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
            }
        }
    }
    inner.update(|state| {
        if state.gateway.socket.as_ref().is_some_and(|s| s.id == id) {
            state.gateway.socket = None;
        }
    });
}

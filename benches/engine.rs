//! Engine speed and memory: load + index time and per-question latency (p50, p99) on the
//! bundled knowledge base, and on synthetic knowledge bases of 10,000 and 100,000 facts.
//!
//! Run with `cargo bench`; `cargo bench -- --quick` does fewer repetitions. Latencies are
//! taken per question with a monotonic clock; memory is counted by a wrapping allocator
//! (bytes live after the engine is built, and the peak while building it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parley::knowledge::{Citation, Fact, FactId, Lexicon, Origin, Source, Supply};
use parley::{Config, Engine, KnowledgeBase};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Times every question `reps` times; returns the sorted latencies.
fn latencies(engine: &Engine, questions: &[String], reps: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(questions.len() * reps);
    for _ in 0..reps {
        for q in questions {
            let start = Instant::now();
            black_box(engine.ask(black_box(q)));
            times.push(start.elapsed());
        }
    }
    times.sort();
    times
}

fn report_latencies(label: &str, times: &[Duration]) {
    println!(
        "{label}: {} questions timed, p50 {}, p99 {}, max {}",
        times.len(),
        micros(percentile(times, 0.5)),
        micros(percentile(times, 0.99)),
        micros(*times.last().unwrap())
    );
}

fn real(quick: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(&root.join("config/parley.toml"), true).unwrap();
    let runs = if quick { 5 } else { 30 };
    let mut loads = Vec::new();
    let mut engine = None;
    for _ in 0..runs {
        let start = Instant::now();
        let kb = KnowledgeBase::load(&root.join("knowledge")).unwrap();
        let e = Engine::new(kb, config.engine.clone());
        loads.push(start.elapsed());
        engine = Some(e);
    }
    loads.sort();
    let engine = engine.unwrap();
    println!(
        "real knowledge base ({} facts): load + index median {:.2} ms, min {:.2} ms",
        engine.knowledge().facts.len(),
        percentile(&loads, 0.5).as_secs_f64() * 1e3,
        loads[0].as_secs_f64() * 1e3
    );
    let mut questions = Vec::new();
    for set in ["dev.jsonl", "holdout.jsonl"] {
        let text = std::fs::read_to_string(root.join("tests/questions").join(set)).unwrap();
        questions.extend(
            parley::eval::parse(&text)
                .unwrap()
                .into_iter()
                .map(|q| q.question),
        );
    }
    let times = latencies(&engine, &questions, if quick { 3 } else { 30 });
    report_latencies("real knowledge base, question-set questions", &times);
}

/// A small deterministic generator (SplitMix64), so that every run builds the same base.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A Zipf-like pick in 0..n: small numbers are far more frequent.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize % n
    }
}

/// A pronounceable word for number `i`, so that typo correction sees realistic words.
fn word(i: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "ro", "mi", "ten", "sul", "va", "dor", "pe", "lin", "gra", "tu", "bes", "no", "ri",
        "zan", "el",
    ];
    let mut w = String::new();
    let mut n = i + 16;
    while n > 0 {
        w.push_str(SYLLABLES[n % 16]);
        n /= 16;
    }
    w
}

/// A knowledge base of `n` facts whose vocabulary grows with it (Heaps' law), as a real
/// one's does: more facts bring more names, places and topics.
fn synthetic(n: usize) -> (KnowledgeBase, Vec<String>) {
    let mut rng = Rng(n as u64);
    let vocabulary = (40.0 * (n as f64).powf(0.7)) as usize + 200;
    let mut text = String::new();
    let mut facts = Vec::with_capacity(n);
    let mut probes = Vec::new();
    for i in 0..n {
        let words: Vec<String> = (0..14).map(|_| word(rng.zipf(vocabulary))).collect();
        let sentence = format!("Fact {i} says {}.", words.join(" "));
        text.push_str(&sentence);
        text.push('\n');
        let questions: Vec<String> = (0..4)
            .map(|k| {
                let picks: Vec<&str> = (0..5)
                    .map(|_| words[rng.below(words.len())].as_str())
                    .collect();
                let lead = ["When did", "Who", "Why did", "What about"][k];
                format!("{lead} {}?", picks.join(" "))
            })
            .collect();
        if i % (n / 1000).max(1) == 0 {
            probes.push(questions[rng.below(4)].clone());
            let mut typo: Vec<String> = words.iter().take(5).cloned().collect();
            typo[0].insert(1, 'x');
            probes.push(format!("what about {}", typo.join(" ")));
            probes.push(format!("when was {} {}", word(vocabulary + i), words[3]));
        }
        facts.push(Fact {
            id: FactId(format!("fact-{i:06}")),
            topic: format!("topic-{}", word(i % 50)),
            answer: sentence.clone(),
            questions,
            date: None,
            date_text: None,
            supplies: vec![Supply::Date, Supply::Actor, Supply::Reason],
            actors: Vec::new(),
            citations: vec![Citation {
                source: "synthetic".into(),
                quote: sentence,
                origin: Origin::memory(),
            }],
            origin: Origin::memory(),
        });
    }
    let source = Source {
        id: "synthetic".into(),
        title: "Synthetic".into(),
        publisher: String::new(),
        author: String::new(),
        date: String::new(),
        checked: String::new(),
        url: String::new(),
        text,
        origin: Origin::memory(),
    };
    let kb = KnowledgeBase::from_parts(vec![source], facts, Lexicon::default()).unwrap();
    (kb, probes)
}

fn scale(n: usize, quick: bool) {
    let start_of_all = LIVE.load(Ordering::Relaxed);
    let (kb, probes) = synthetic(n);
    let config = Config::default();
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let start = Instant::now();
    let engine = Engine::new(kb, config.engine);
    let build = start.elapsed();
    let live = LIVE.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    println!(
        "synthetic {n} facts: index build {:.2} s; engine memory {:.0} MB beyond the knowledge base (peak while building {:.0} MB)",
        build.as_secs_f64(),
        live as f64 / 1e6,
        peak as f64 / 1e6
    );
    println!(
        "synthetic {n} facts: total memory (knowledge base + engine) {:.0} MB",
        (LIVE.load(Ordering::Relaxed) - start_of_all) as f64 / 1e6
    );
    let times = latencies(&engine, &probes, if quick { 2 } else { 10 });
    report_latencies(&format!("synthetic {n} facts"), &times);
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    real(quick);
    scale(10_000, quick);
    scale(100_000, quick);
}

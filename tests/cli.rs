//! The `parley` command line, run as a user runs it.

use crate::util::{fixture, parley, parley_with_stdin, root};

const SOURCE: &str = include_str!("../knowledge/sources/talks-explainer.txt");

#[test]
fn ask_answers_with_a_verbatim_citation() {
    let run = parley(&["ask", "When was the grain deal signed?"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("July 2022"), "{}", run.stdout);
    let quote = "In July 2022, Turkey and the United Nations helped broker the only major agreement yet signed by the warring sides.";
    assert!(run.stdout.contains(&format!("> {quote}")), "{}", run.stdout);
    assert!(
        run.stdout.contains("— Explainer:"),
        "the source title is shown: {}",
        run.stdout
    );
}

#[test]
fn ask_json_has_exactly_the_documented_fields() {
    let run = parley(&[
        "ask",
        "--json",
        "how many soldiers were released in the latest swap?",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let replies = run.json_lines();
    assert_eq!(replies.len(), 1);
    let reply = replies[0].as_object().unwrap();
    let mut keys: Vec<&str> = reply.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "answer",
            "answered",
            "citations",
            "confidence",
            "fact_id",
            "question",
            "suggestions"
        ]
    );
    assert_eq!(reply["answered"], true);
    assert_eq!(reply["fact_id"], "latest-exchange-205");
    let confidence = reply["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    let citation = reply["citations"][0].as_object().unwrap();
    let mut keys: Vec<&str> = citation.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["as_of", "quote", "source", "title"]);
    // The bundled source is undated.
    assert_eq!(citation["as_of"], serde_json::Value::Null);
    assert!(SOURCE.contains(citation["quote"].as_str().unwrap()));
}

#[test]
fn ask_abstains_with_exit_code_1_and_suggestions() {
    let run = parley(&["ask", "--json", "When did Qatar start mediating?"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let reply = &run.json_lines()[0];
    assert_eq!(reply["answered"], false);
    assert!(reply["answer"].is_null() && reply["fact_id"].is_null());
    assert_eq!(reply["citations"].as_array().unwrap().len(), 0);
    let suggestions = reply["suggestions"].as_array().unwrap();
    assert!(suggestions.len() <= 3);
    let text = parley(&["ask", "What is the oil price cap?"]);
    assert_eq!(text.code, 1);
    assert!(text.stdout.contains("do not cover"), "{}", text.stdout);
}

#[test]
fn bad_questions_get_a_message_and_exit_code_2() {
    let long = "grain ".repeat(20_000);
    for question in ["", "   ", "🇺🇦🔥🙏", "?!?! ...", long.as_str()] {
        let run = parley(&["ask", question]);
        assert_eq!(run.code, 2, "{}: {}", question.len(), run.stdout);
        assert!(!run.stdout.is_empty(), "a message is printed");
        assert!(run.stderr.is_empty() || !run.stderr.contains("panicked"));
    }
    let long = parley(&["ask", &"grain ".repeat(20_000)]);
    assert!(long.stdout.contains("too long"), "{}", long.stdout);
    let control = parley(&[
        "ask",
        "when\u{7} was the grain\u{1b}[31m deal signed\u{202e}?",
    ]);
    assert_eq!(control.code, 0, "{}", control.stdout);
    // A NUL cannot be passed as an argument; on standard input it is just another character.
    let nul = parley_with_stdin(&["ask", "--json"], b"when was the\0 grain deal signed\n");
    assert_eq!(nul.code, 0, "{}", nul.stderr);
    assert_eq!(nul.json_lines()[0]["fact_id"], "grain-deal-brokered");
}

#[test]
fn stdin_answers_every_line_and_reports_invalid_utf8() {
    let mut input = b"When did Russia withdraw from the grain deal?\n\n".to_vec();
    input.extend_from_slice(b"who mediates prisoner swaps \xff\xfe\r\n");
    input.extend_from_slice(b"what is the oil price cap\n");
    let run = parley_with_stdin(&["ask", "--json"], &input);
    assert_eq!(run.code, 2, "an invalid line makes the exit code 2");
    assert!(
        run.stderr.contains("line 3: not valid UTF-8"),
        "{}",
        run.stderr
    );
    let replies = run.json_lines();
    assert_eq!(replies.len(), 3, "one object per non-blank line");
    assert_eq!(replies[0]["fact_id"], "grain-deal-russia-withdrew");
    assert_eq!(replies[1]["fact_id"], "uae-mediates-exchanges");
    assert_eq!(replies[2]["answered"], false);

    let clean = parley_with_stdin(&["ask", "--json"], b"When did Russia invade Ukraine?\n");
    assert_eq!(clean.code, 0);
    assert_eq!(clean.json_lines()[0]["fact_id"], "invasion-launched");
}

#[test]
fn timeline_lists_dated_facts_in_order() {
    let run = parley(&["timeline", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    let dates: Vec<&str> = entries
        .iter()
        .map(|e| e["date"].as_str().unwrap())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted);
    assert_eq!(dates.first(), Some(&"2022-02-24"));
    assert!(entries.iter().any(|e| e["date_text"] == "early April 2022"));

    let window = parley(&["timeline", "--json", "--from", "2022-04-10", "--to", "2023"]);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&window.stdout).unwrap();
    let ids: Vec<&str> = entries
        .iter()
        .map(|e| e["fact_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "talks-collapse-bucha",
            "grain-deal-brokered",
            "grain-deal-russia-withdrew"
        ]
    );

    let topic = parley(&["timeline", "--topic", "GRAIN"]);
    assert_eq!(topic.code, 0);
    assert!(topic.stdout.contains("July 2023") && !topic.stdout.contains("February 24, 2022"));
}

#[test]
fn timeline_rejects_bad_ranges_and_topics() {
    let bad_date = parley(&["timeline", "--from", "2022-13"]);
    assert_eq!(bad_date.code, 2);
    assert!(bad_date.stderr.contains("month 13"), "{}", bad_date.stderr);
    let reversed = parley(&["timeline", "--from", "2024", "--to", "2022"]);
    assert_eq!(reversed.code, 2);
    assert!(reversed.stderr.contains("after"), "{}", reversed.stderr);
    let topic = parley(&["timeline", "--topic", "kursk"]);
    assert_eq!(topic.code, 2);
    assert!(topic.stderr.contains("topics are"), "{}", topic.stderr);
}

#[test]
fn fact_shows_one_fact_or_suggests_ids() {
    let run = parley(&["fact", "icc-warrant-putin"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .contains("The International Criminal Court (ICC) issued an arrest warrant")
    );
    let random = parley(&["fact", "--json"]);
    assert_eq!(random.code, 0);
    let fact: serde_json::Value = serde_json::from_str(&random.stdout).unwrap();
    assert!(SOURCE.contains(fact["citations"][0]["quote"].as_str().unwrap()));
    let unknown = parley(&["fact", "icc-warant-putin"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("did you mean: icc-warrant-putin"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn check_passes_on_the_bundled_knowledge_base() {
    let run = parley(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // The one warning: the source is undated, so its facts' age cannot be told.
    assert!(
        run.stdout.contains("0 error(s), 1 warning(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("source `talks-explainer` is undated: the freshness of the"),
        "{}",
        run.stdout
    );
}

#[test]
fn check_names_file_and_line_of_every_problem() {
    let dir = fixture("broken");
    let run = parley(&["check", "--knowledge", dir.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let file = "broken.toml";
    for (line, message) in [
        (12, "duplicate fact id `first-round`"),
        (26, "quote not found verbatim"),
        (35, "unknown source `nowhere`"),
        (43, "bad date \"2021-02-30\""),
        (49, "at least 4 are needed"),
    ] {
        let want = format!("{file}:{line}: error: ");
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains(&want) && l.contains(message)),
            "expected {want}…{message} in:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("doc.txt:4: warning: no fact cites this sentence")
    );
}

#[test]
fn check_reports_example_questions_answered_by_another_fact() {
    let dir = tempfile::tempdir().unwrap();
    let kb = fixture("small");
    copy_dir(&kb, dir.path());
    // Give the second fact a question that the first one answers.
    let facts = dir.path().join("facts/talks.toml");
    let text = std::fs::read_to_string(&facts).unwrap().replace(
        "\"What did the two ports agree?\"",
        "\"Where did the first round of talks take place in Minsk?\"",
    );
    std::fs::write(&facts, text).unwrap();
    let run = parley(&["check", "--knowledge", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("of `ship-exchange` is answered by `first-round`"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_misquote_stops_the_load_with_file_and_line() {
    let dir = fixture("broken");
    let run = parley(&[
        "ask",
        "--knowledge",
        dir.to_str().unwrap(),
        "how many ships?",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("broken.toml:26: error: fact `misquoted`: quote not found verbatim"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_paths_give_clear_errors() {
    let run = parley(&["ask", "--knowledge", "no/such/dir", "hello"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no/such/dir") && run.stderr.contains("--knowledge"),
        "{}",
        run.stderr
    );
    let run = parley(&["ask", "--config", "no/such.toml", "hello"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no/such.toml"), "{}", run.stderr);
}

#[test]
fn help_describes_every_command() {
    let run = parley(&["--help"]);
    assert_eq!(run.code, 0);
    for command in ["ask", "timeline", "fact", "check", "eval"] {
        assert!(run.stdout.contains(command), "{command} in --help");
    }
}

#[test]
fn the_bundled_source_is_kept_byte_for_byte() {
    // Its size and its ends as it was given: an edit anywhere shows in one of them.
    let kept = std::fs::read(root().join("knowledge/sources/talks-explainer.txt")).unwrap();
    assert_eq!(kept.len(), 3804);
    assert!(SOURCE.starts_with("Ukrainian President Volodymyr Zelensky has called"));
    assert!(SOURCE.ends_with("but Moscow denies the claims.\n\n"));
    assert_eq!(SOURCE.lines().count(), 29);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in walk(from) {
        let target = to.join(entry.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn serve_without_a_token_exits_at_once_naming_the_variable() {
    let run = parley(&["serve"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("DISCORD_TOKEN"), "{}", run.stderr);
    assert!(run.stderr.contains("token_file"), "{}", run.stderr);
}

//! Tests of the SQL editor: editing, checks, templates, drawing at two sizes, scrolling.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::headless::frame_text;
use crate::keys::parse_keys;
use crate::theme::Theme;

fn clicks() -> Vec<UpstreamTable> {
    vec![UpstreamTable {
        name: "clicks".into(),
        fields: vec![
            ("user_id".into(), "String".into()),
            ("url".into(), "String".into()),
            ("ts".into(), "Timestamp".into()),
        ],
    }]
}

fn keys(ed: &mut SqlEditor, script: &str) -> SqlOutcome {
    let km = Keymap::defaults();
    let mut last = SqlOutcome::Continue;
    for k in parse_keys(script).unwrap() {
        last = ed.handle_key(k, &km);
    }
    last
}

fn draw(ed: &mut SqlEditor, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ed.render(f, f.area(), &Theme::default(), true))
        .unwrap();
    frame_text(term.backend().buffer())
}

#[test]
fn typing_enter_and_backspace_edit() {
    let mut ed = SqlEditor::new("pv", "", clicks());
    assert_eq!(
        keys(&mut ed, "SELECT 1<Enter>FROM cl<BS>licks"),
        SqlOutcome::Continue
    );
    assert_eq!(ed.text(), "SELECT 1\nFROM clicks");
    keys(&mut ed, "<Up><End><Tab>x<Down><Home>y");
    assert_eq!(ed.text(), "SELECT 1    x\nyFROM clicks");
    keys(&mut ed, "<C-u><C-u><C-u>");
    assert_eq!(ed.text(), "SELECT 1\nFROM clicks");
    assert_eq!(
        keys(&mut ed, "<C-s>"),
        SqlOutcome::Apply("SELECT 1\nFROM clicks".into())
    );
    // apply also checked the text
    assert_eq!(ed.problems(), vec![]);
    // edits not applied: the first Esc warns, a second one right after cancels
    assert!(matches!(keys(&mut ed, "<Esc>"), SqlOutcome::Say(m) if m.contains("Esc again")));
    assert_eq!(keys(&mut ed, "<Esc>"), SqlOutcome::Cancel);
    // any other key in between asks again
    assert!(matches!(
        keys(&mut ed, "<Esc><Left><Esc>"),
        SqlOutcome::Say(_)
    ));
    // no edits: Esc cancels at once
    let mut ed = SqlEditor::new("pv", "SELECT 1\r\nFROM clicks", clicks());
    assert_eq!(keys(&mut ed, "<Esc>"), SqlOutcome::Cancel);
    keys(&mut ed, "x<BS>");
    assert_eq!(keys(&mut ed, "<Esc>"), SqlOutcome::Cancel);
    // the text round-trips, leading newline included
    let q = "\nSELECT *\r\nFROM clicks\n";
    assert_eq!(
        SqlEditor::new("pv", q, clicks()).text(),
        "\nSELECT *\nFROM clicks\n"
    );
}

#[test]
fn validation_positions() {
    let mut ed = SqlEditor::new(
        "pv",
        "SELECT url,\n  COUNT(*) FROM clikcs GROUP BY url",
        clicks(),
    );
    assert_eq!(ed.problems(), vec![]);
    assert_eq!(keys(&mut ed, "<C-k>"), SqlOutcome::Continue);
    let p = ed.problems();
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].0, p[0].1), (2, 17));
    assert!(p[0].2.contains("`clikcs`") && p[0].2.contains("did you mean `clicks`?"));
    let screen = draw(&mut ed, 58, 20);
    assert!(screen.contains("2:17 SQL reads table `clikcs`"), "{screen}");
    assert!(screen.contains(" 2● "), "{screen}");
    // fixing it and checking again
    let mut ed = SqlEditor::new("pv", "SELECT * FROM clicks", clicks());
    ed.perform("validate");
    assert!(draw(&mut ed, 58, 20).contains("SQL ok"));
    assert_eq!(line_col("a\nbé c", 6), (2, 4));
    assert_eq!(line_col("é", 1), (1, 1));
    assert_eq!(line_col("", 9), (1, 1));
}

#[test]
fn apply_is_never_blocked() {
    let mut ed = SqlEditor::new("pv", "SELECT FROM WHERE", vec![]);
    match ed.perform("apply") {
        SqlOutcome::Apply(t) => assert_eq!(t, "SELECT FROM WHERE"),
        other => panic!("{other:?}"),
    }
    assert!(!ed.problems().is_empty());
}

#[test]
fn templates_from_the_list() {
    let mut ed = SqlEditor::new("pv", "", clicks());
    keys(&mut ed, "<C-t>");
    assert!(draw(&mut ed, 58, 20).contains("tumbling window count"));
    // typing filters, Enter inserts at the cursor
    keys(&mut ed, "topn<Enter>");
    assert!(ed.picker.is_none());
    assert!(ed.text().contains("ROW_NUMBER() OVER"), "{}", ed.text());
    assert!(ed.text().contains("TABLE clicks"));
    ed.perform("validate");
    assert_eq!(ed.problems(), vec![]);
    // Esc closes the list without cancelling the editor
    let before = ed.text();
    assert_eq!(keys(&mut ed, "<C-t>ses<Esc>"), SqlOutcome::Continue);
    assert_eq!(ed.text(), before);
    assert_eq!(
        keys(&mut ed, "<C-t><Down><Down><Up>zzzz<Enter><Esc>"),
        SqlOutcome::Continue
    );
    assert_eq!(ed.text(), before);
    // after text on the line, a template starts on a new line
    let mut ed = SqlEditor::new("pv", "-- mine", clicks());
    keys(&mut ed, "<End><C-t>projection<Enter>");
    assert!(
        ed.text()
            .starts_with("-- mine\nSELECT user_id, url, ts\nFROM clicks"),
        "{}",
        ed.text()
    );
}

#[test]
fn renders_small_and_large() {
    let q = "\nSELECT window_start, window_end, url,\n       COUNT(*) AS pv\nFROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))\nGROUP BY window_start, window_end, url";
    let mut ed = SqlEditor::new("pv", q, clicks());
    let small = draw(&mut ed, 58, 20);
    assert!(small.contains("clicks(user_id, url, ts)"), "{small}");
    assert!(
        small.contains(" 1  ") && small.contains(" 5  GROUP BY"),
        "{small}"
    );
    let big = draw(&mut ed, 140, 46);
    assert!(big.contains("│clicks"), "{big}");
    assert!(big.contains("  user_id String"), "{big}");
    assert!(big.contains(" 4  FROM TABLE(TUMBLE"), "{big}");
    assert!(big.contains("<C-k> check"), "{big}");
    ed.perform("template");
    let big = draw(&mut ed, 140, 46);
    assert!(
        big.contains("pick columns and keep the rows that match"),
        "{big}"
    );
    assert!(big.contains("WHERE user_id IS NOT NULL"), "{big}");
}

#[test]
fn scrolls_to_the_cursor() {
    let long = format!("SELECT '{}' AS tail_marker", "x".repeat(200));
    let text: Vec<String> = (0..60)
        .map(|i| format!("-- line {i}"))
        .chain([long])
        .collect();
    let mut ed = SqlEditor::new("pv", &text.join("\n"), clicks());
    keys(&mut ed, "<C-v><C-v><C-v><C-v><C-v><C-v><C-v><C-v><End>");
    assert_eq!(ed.textarea.cursor().0, 60);
    let screen = draw(&mut ed, 58, 20);
    assert!(
        screen.contains("61  ") && screen.contains("tail_marker"),
        "{screen}"
    );
    keys(&mut ed, "<PageUp><PageUp><Home>");
    let screen = draw(&mut ed, 58, 20);
    assert!(!screen.contains("tail_marker"), "{screen}");
    assert!(screen.contains("-- line"), "{screen}");
}

#[test]
fn odd_text_and_keys_do_not_panic() {
    let texts = [
        "",
        "\t\tSELECT\t*\n\u{1b}[31m\r\n名前 ̈é 🦀🦀🦀",
        &"é".repeat(5000),
        "'unterminated\n/* open",
    ];
    let script = "<C-k><Tab>x名<Left><Left><Left><Right><End><Home><Up><Down><PageDown><PageUp>\
                  <S-Right><S-Right><C-x><C-y><C-u><C-r><Del><BS><C-w><A-d><F5><C-t>a<BS><BS>\
                  <Down><Down><Down><Down><Down><Down><Down><Down><Down><Down><Down><Enter>\
                  <C-t><Up><Up><Enter><C-k><C-v><A-v><S-Tab><A-x><C-a><C-e><C-j>";
    for t in texts {
        let mut ed = SqlEditor::new("n", t, clicks());
        for k in parse_keys(script).unwrap() {
            ed.handle_key(k, &Keymap::defaults());
            for (w, h) in [(58, 20), (140, 46), (20, 5), (3, 2)] {
                draw(&mut ed, w, h);
            }
        }
        let mut ed = SqlEditor::new("n", t, vec![]);
        ed.perform("nonsense");
        ed.perform("validate");
        draw(&mut ed, 80, 24);
        draw(&mut ed, 1, 1);
    }
}

#[test]
fn the_full_check_is_pending_then_shown_at_its_place() {
    let query = "SELECT url\nFROM clicks WHERE urlx <> ''";
    let mut ed = SqlEditor::new("pv", query, clicks());
    ed.set_pending();
    let screen = draw(&mut ed, 58, 20);
    assert!(screen.contains("checking…"), "{screen}");
    assert!(!screen.contains("SQL ok"), "{screen}");
    let at = query.find("urlx").unwrap_or(0);
    ed.set_verdict(
        query.into(),
        vec![FoundProblem {
            start: at,
            end: at + 4,
            message: "No field named urlx".into(),
            hint: None,
        }],
        0,
    );
    assert_eq!(ed.problems(), vec![(2, 19, "No field named urlx".into())]);
    let screen = draw(&mut ed, 58, 20);
    assert!(screen.contains("problems (1)"), "{screen}");
    assert!(screen.contains("2:19 No field named urlx"), "{screen}");
    assert!(!screen.contains("checking…"), "{screen}");
    // a verdict without problems here, with problems elsewhere in the job
    ed.set_verdict(query.into(), vec![], 2);
    let screen = draw(&mut ed, 58, 20);
    assert!(screen.contains("SQL ok"), "{screen}");
    assert!(screen.contains("2 other problems"), "{screen}");
    // validate asks the graph editor for the full check, once
    ed.perform("validate");
    assert!(ed.take_check_wanted());
    assert!(!ed.take_check_wanted());
}

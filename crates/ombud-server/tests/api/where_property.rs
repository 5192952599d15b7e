//! A property test of `where` filters: random boolean expressions over data
//! controllers go through GraphQL and through an in-memory evaluator of the
//! documented semantics, and both must select the same rows.
//!
//! The evaluator follows the rules of docs/api-notes.md. Text compares by
//! bytes (Rust's `str` ordering), a backslash in a `_like` pattern escapes the
//! next character, and `_ilike` folds ASCII letters only. A comparison on a
//! null column is unknown (SQL's three-valued logic), so `_neq`, `_nin` and
//! `_nlike` do not match null, and `_not` of unknown stays unknown. `_in: []`
//! is false and `_nin: []` is true for every row, null or not, because ombud
//! renders them as the constants FALSE and TRUE.
//!
//! `PROPTEST_CASES` sets the number of random cases (256 by default).

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, Utc};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, parse_uuid, spawn_app};

/// One seeded data controller: title, description, industry and website.
type ControllerSeed = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// Values chosen to trip up text handling: case pairs, accents, emoji, LIKE
/// wildcards, backslashes, quotes, whitespace-only and empty strings.
///
/// Each non-ASCII letter appears in one case only (é, ü, ï, ö, è, û and ß
/// lowercase, Å, Ø and Ω uppercase). The case pairs are covered by
/// `ilike_folds_non_ascii_alike_on_both_backends`.
const CONTROLLERS: [ControllerSeed; 27] = [
    (
        "Acme",
        Some("Widgets and gadgets"),
        Some("Retail"),
        Some("https://acme.example"),
    ),
    ("acme", None, Some("retail"), None),
    (
        "ACME Corp",
        Some(""),
        None,
        Some("https://acme-corp.example"),
    ),
    (
        "Café Zürich",
        Some("Coffee & cake"),
        Some("Hospitality"),
        None,
    ),
    ("CAFE ZURICH", None, Some("hospitality"), None),
    ("naïve bakery", Some("crème brûlée"), Some("Food"), None),
    ("ÅLAND Øy", Some("Ωmega grid"), Some("Energy"), None),
    ("100% Organic", Some("percent % sign"), Some("%"), None),
    ("snake_case_co", Some("under_score"), Some("tech_"), None),
    ("back\\slash", Some("C:\\Temp\\new"), Some("\\"), None),
    ("O'Brien & Sons", Some("single ' quote"), None, None),
    (
        "\"Quoted\" Ltd",
        Some("double \" quote"),
        Some("Legal"),
        None,
    ),
    (" ", Some(" "), Some(" "), None),
    ("", None, Some(""), None),
    (
        "🚀 Rocket",
        Some("emoji 🚀🔥 mix"),
        Some("Aerospace"),
        Some("https://rocket.example"),
    ),
    ("🔥", None, None, None),
    ("ZZZ", Some("zzz"), Some("ZZZ"), None),
    ("zzz", Some("ZZZ"), None, None),
    ("a", Some("A"), Some("a"), None),
    ("A", Some("a"), Some("A"), None),
    ("a_b", Some("a%b"), Some("a_b"), None),
    ("a\\%b", Some("a\\_b"), Some("a\\\\b"), None),
    ("Straße 5", Some("straße"), Some("Logistics"), None),
    ("tab\there", Some("line one\nline two"), Some("Media"), None),
    ("日本語の会社", Some("漢字"), None, None),
    ("e\u{301}cole", Some("école"), Some("Education"), None),
    (
        "  padded  ",
        Some("%_\\"),
        Some("Tech"),
        Some("https://padded.example"),
    ),
];

/// Extra operands that match no seeded value exactly, around the byte order's edges.
const EXTRA_OPERANDS: [&str; 9] = ["", "B", "b", "Acm", "zz", "~", "\u{7f}", "é", "🚀"];

/// Characters of hand-rolled patterns, to reach escapes and wildcards in odd places.
const PATTERN_ALPHABET: [char; 12] = [
    'a', 'A', 'b', 'Z', '%', '_', '\\', 'é', '🚀', ' ', '\'', 'e',
];

/// Text columns of `data_controllers` the property filters on.
const TEXT_COLUMNS: [&str; 3] = ["title", "description", "industry"];

const COMPARISON_OPERATORS: [&str; 6] = ["_eq", "_neq", "_gt", "_gte", "_lt", "_lte"];
const PATTERN_OPERATORS: [&str; 4] = ["_like", "_nlike", "_ilike", "_nilike"];

/// Controllers are inserted in batches of this size, so that rows share a
/// `createdAt` within a batch and differ between batches.
const BATCH_SIZE: usize = 5;

const FILTERED_CONTROLLERS: &str = "query ($where: data_controllers_bool_exp!) { \
    dataControllers(where: $where) { id } }";

/// A controller as stored, read back through the admin role.
#[derive(Debug, Clone)]
struct Row {
    id: Uuid,
    title: String,
    description: Option<String>,
    industry: Option<String>,
    created_at: DateTime<Utc>,
}

impl Row {
    fn text(&self, field: &str) -> Option<&str> {
        match field {
            "title" => Some(self.title.as_str()),
            "description" => self.description.as_deref(),
            "industry" => self.industry.as_deref(),
            other => panic!("the evaluator has no text column {other}"),
        }
    }
}

/// Inserts `CONTROLLERS` through `insertDataControllers` as admin and reads them back.
async fn seed_controllers(app: &TestApp) -> Vec<Row> {
    for batch in CONTROLLERS.chunks(BATCH_SIZE) {
        let objects: Vec<Value> = batch
            .iter()
            .map(|(title, description, industry, website)| {
                json!({
                    "title": title,
                    "description": description,
                    "industry": industry,
                    "website": website,
                })
            })
            .collect();
        let response = app
            .graphql_admin(
                "mutation ($objects: [data_controllers_insert_input!]!) { \
                   insertDataControllers(objects: $objects) { affectedRows } }",
                json!({ "objects": objects }),
            )
            .await;
        assert_eq!(
            response.data()["insertDataControllers"]["affectedRows"],
            json!(batch.len()),
            "{}",
            response.body
        );
        // A pause between batches gives each batch its own `createdAt`.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }

    let response = app
        .graphql_admin(
            "{ dataControllers { id title description industry createdAt } }",
            json!({}),
        )
        .await;
    let rows: Vec<Row> = response.data()["dataControllers"]
        .as_array()
        .unwrap_or_else(|| panic!("expected a list: {}", response.body))
        .iter()
        .map(|row| Row {
            id: parse_uuid(&row["id"]),
            title: row["title"].as_str().expect("title is a string").to_owned(),
            description: row["description"].as_str().map(str::to_owned),
            industry: row["industry"].as_str().map(str::to_owned),
            created_at: parse_time(&row["createdAt"]),
        })
        .collect();
    assert_eq!(rows.len(), CONTROLLERS.len(), "{}", response.body);

    // The evaluator reads the stored values, so check they are the values sent.
    let stored: BTreeSet<(&str, Option<&str>, Option<&str>)> = rows
        .iter()
        .map(|row| {
            (
                row.title.as_str(),
                row.description.as_deref(),
                row.industry.as_deref(),
            )
        })
        .collect();
    let sent: BTreeSet<(&str, Option<&str>, Option<&str>)> = CONTROLLERS
        .iter()
        .map(|(title, description, industry, _)| (*title, *description, *industry))
        .collect();
    assert_eq!(stored, sent, "text was changed on the way in");
    rows
}

fn parse_time(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("expected a timestamp string, got {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("{text:?} is not RFC 3339: {error}"))
        .with_timezone(&Utc)
}

// The evaluator.

/// SQL's three truth values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn from_bool(value: bool) -> Truth {
        if value { Truth::True } else { Truth::False }
    }

    fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// Evaluates a `data_controllers_bool_exp` on one row. The keys of an object
/// are AND-ed, so `{}` is true.
fn evaluate(filter: &Value, row: &Row) -> Truth {
    let object = filter
        .as_object()
        .unwrap_or_else(|| panic!("a bool_exp must be an object, got {filter}"));
    object.iter().fold(Truth::True, |truth, (key, value)| {
        truth.and(evaluate_key(key, value, row))
    })
}

fn evaluate_key(key: &str, value: &Value, row: &Row) -> Truth {
    match key {
        "_and" => list(value)
            .iter()
            .fold(Truth::True, |truth, item| truth.and(evaluate(item, row))),
        "_or" => list(value)
            .iter()
            .fold(Truth::False, |truth, item| truth.or(evaluate(item, row))),
        "_not" => evaluate(value, row).not(),
        "createdAt" => comparisons(value)
            .iter()
            .fold(Truth::True, |truth, (operator, operand)| {
                truth.and(compare_time(operator, operand, row.created_at))
            }),
        field => comparisons(value)
            .iter()
            .fold(Truth::True, |truth, (operator, operand)| {
                truth.and(compare_text(operator, operand, row.text(field)))
            }),
    }
}

fn list(value: &Value) -> &Vec<Value> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {value}"))
}

fn comparisons(value: &Value) -> Vec<(&str, &Value)> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("expected a comparison object, got {value}"))
        .iter()
        .map(|(operator, operand)| (operator.as_str(), operand))
        .collect()
}

fn text_operand(operand: &Value) -> &str {
    operand
        .as_str()
        .unwrap_or_else(|| panic!("expected a string operand, got {operand}"))
}

fn compare_text(operator: &str, operand: &Value, value: Option<&str>) -> Truth {
    // These two do not look at the column, so a null column gives no unknown.
    match operator {
        "_is_null" => {
            let expected_null = operand.as_bool().expect("_is_null takes a boolean");
            return Truth::from_bool(value.is_none() == expected_null);
        }
        "_in" if list(operand).is_empty() => return Truth::False,
        "_nin" if list(operand).is_empty() => return Truth::True,
        _ => {}
    }

    let Some(value) = value else {
        return Truth::Unknown;
    };
    Truth::from_bool(match operator {
        "_in" => list(operand).iter().any(|item| text_operand(item) == value),
        "_nin" => !list(operand).iter().any(|item| text_operand(item) == value),
        "_like" => like(value, text_operand(operand)),
        "_nlike" => !like(value, text_operand(operand)),
        "_ilike" => like(
            &value.to_ascii_lowercase(),
            &text_operand(operand).to_ascii_lowercase(),
        ),
        "_nilike" => !like(
            &value.to_ascii_lowercase(),
            &text_operand(operand).to_ascii_lowercase(),
        ),
        ordering => compare(ordering, value, text_operand(operand)),
    })
}

fn compare_time(operator: &str, operand: &Value, value: DateTime<Utc>) -> Truth {
    Truth::from_bool(compare(operator, &value, &parse_time(operand)))
}

fn compare<T: Ord + ?Sized>(operator: &str, left: &T, right: &T) -> bool {
    match operator {
        "_eq" => left == right,
        "_neq" => left != right,
        "_gt" => left > right,
        "_gte" => left >= right,
        "_lt" => left < right,
        "_lte" => left <= right,
        other => panic!("the evaluator has no operator {other}"),
    }
}

/// One element of a LIKE pattern.
#[derive(Debug, Clone, Copy)]
enum PatternToken {
    Literal(char),
    /// `_`: exactly one character.
    One,
    /// `%`: any run of characters, also none.
    Any,
}

/// LIKE with `ESCAPE '\'`: a backslash makes the next character literal,
/// whatever it is. Characters are Unicode scalar values, as both backends
/// count them in UTF-8 text.
fn like(value: &str, pattern: &str) -> bool {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(character) = chars.next() {
        tokens.push(match character {
            '\\' => PatternToken::Literal(
                chars
                    .next()
                    .unwrap_or_else(|| panic!("{pattern:?} ends in a single backslash")),
            ),
            '%' => PatternToken::Any,
            '_' => PatternToken::One,
            other => PatternToken::Literal(other),
        });
    }

    // matched[j]: the tokens so far match the first j characters of the value.
    let value: Vec<char> = value.chars().collect();
    let mut matched = vec![false; value.len() + 1];
    matched[0] = true;
    for token in tokens {
        let mut next = vec![false; value.len() + 1];
        for j in 0..=value.len() {
            next[j] = match token {
                PatternToken::Any => matched[j] || (j > 0 && next[j - 1]),
                PatternToken::One => j > 0 && matched[j - 1],
                PatternToken::Literal(character) => {
                    j > 0 && matched[j - 1] && value[j - 1] == character
                }
            };
        }
        matched = next;
    }
    matched[value.len()]
}

/// Ids of the rows on which `filter` is true.
fn expected_ids(filter: &Value, rows: &[Row]) -> BTreeSet<Uuid> {
    rows.iter()
        .filter(|row| evaluate(filter, row) == Truth::True)
        .map(|row| row.id)
        .collect()
}

async fn filtered_ids(app: &TestApp, filter: &Value) -> Result<BTreeSet<Uuid>, String> {
    let response = app
        .graphql_admin(FILTERED_CONTROLLERS, json!({ "where": filter }))
        .await;
    if response.status != reqwest::StatusCode::OK || response.body.get("errors").is_some() {
        return Err(format!("the server rejected the filter: {}", response.body));
    }
    let rows = response.body["data"]["dataControllers"]
        .as_array()
        .ok_or_else(|| format!("no dataControllers list in {}", response.body))?;
    Ok(rows.iter().map(|row| parse_uuid(&row["id"])).collect())
}

/// Titles of `ids`, for failure messages.
fn titles(rows: &[Row], ids: &BTreeSet<Uuid>) -> Vec<String> {
    rows.iter()
        .filter(|row| ids.contains(&row.id))
        .map(|row| row.title.clone())
        .collect()
}

// The generators.

/// Collects every seeded text value and the extra operands, without duplicates.
fn operand_pool() -> Vec<String> {
    let mut pool = BTreeSet::new();
    for (title, description, industry, _) in CONTROLLERS {
        pool.insert(title.to_owned());
        pool.extend(description.map(str::to_owned));
        pool.extend(industry.map(str::to_owned));
    }
    pool.extend(EXTRA_OPERANDS.iter().map(|operand| (*operand).to_owned()));
    pool.into_iter().collect()
}

/// Returns the characters of `text` between two positions given in either order.
fn substring(text: &str, start: Index, end: Index) -> String {
    let chars: Vec<char> = text.chars().collect();
    let (mut from, mut to) = (start.index(chars.len() + 1), end.index(chars.len() + 1));
    if from > to {
        std::mem::swap(&mut from, &mut to);
    }
    chars[from..to].iter().collect()
}

/// A change of ASCII letter case applied to an operand.
#[derive(Debug, Clone, Copy)]
enum CaseChange {
    None,
    Lower,
    Upper,
    Swap,
}

impl CaseChange {
    fn apply(self, text: &str) -> String {
        match self {
            CaseChange::None => text.to_owned(),
            CaseChange::Lower => text.to_ascii_lowercase(),
            CaseChange::Upper => text.to_ascii_uppercase(),
            CaseChange::Swap => swap_ascii_case(text),
        }
    }
}

fn swap_ascii_case(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_ascii_uppercase() {
                character.to_ascii_lowercase()
            } else {
                character.to_ascii_uppercase()
            }
        })
        .collect()
}

/// Generates operands for `_eq`, `_gt`, `_in` and the like: seeded values,
/// their substrings and case swaps, and short strings of odd characters.
fn text_value(pool: &[String]) -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(pool.to_vec()),
        2 => (select(pool.to_vec()), any::<Index>(), any::<Index>())
            .prop_map(|(text, start, end)| substring(&text, start, end)),
        1 => select(pool.to_vec()).prop_map(|text| swap_ascii_case(&text)),
        1 => prop::collection::vec(select(PATTERN_ALPHABET.to_vec()), 0..4)
            .prop_map(|chars| chars.into_iter().collect::<String>()),
    ]
    .boxed()
}

/// Appends `character` to a pattern as a literal, escaping LIKE's metacharacters.
fn push_literal(pattern: &mut String, character: char) {
    if matches!(character, '%' | '_' | '\\') {
        pattern.push('\\');
    }
    pattern.push(character);
}

/// Generates patterns from a substring of a seeded value, in its own case or
/// in ASCII lower, upper or swapped case. Some characters become `_`, and `%`
/// may stand at either end and inside. One pattern in five is instead a raw
/// string of `PATTERN_ALPHABET`.
fn pattern(pool: &[String]) -> BoxedStrategy<String> {
    let case = prop_oneof![
        3 => Just(CaseChange::None),
        1 => Just(CaseChange::Lower),
        1 => Just(CaseChange::Upper),
        1 => Just(CaseChange::Swap),
    ];
    let built = (
        select(pool.to_vec()),
        (any::<Index>(), any::<Index>()),
        case,
        prop::collection::vec(prop::bool::weighted(0.1), 0..24),
        prop::option::weighted(0.2, any::<Index>()),
        (prop::bool::weighted(0.6), prop::bool::weighted(0.6)),
    )
        .prop_map(
            |(source, (start, end), case, wildcards, inner, (leading, trailing))| {
                let text = case.apply(&substring(&source, start, end));
                let mut pieces: Vec<String> = text
                    .chars()
                    .enumerate()
                    .map(|(position, character)| {
                        let mut piece = String::new();
                        if wildcards.get(position).copied().unwrap_or(false) {
                            piece.push('_');
                        } else {
                            push_literal(&mut piece, character);
                        }
                        piece
                    })
                    .collect();
                if let Some(inner) = inner {
                    pieces.insert(inner.index(pieces.len() + 1), "%".to_owned());
                }
                let mut pattern = String::new();
                if leading {
                    pattern.push('%');
                }
                pattern.extend(pieces);
                if trailing {
                    pattern.push('%');
                }
                pattern
            },
        );
    let raw = prop::collection::vec(select(PATTERN_ALPHABET.to_vec()), 0..8).prop_map(|chars| {
        let mut pattern: String = chars.into_iter().collect();
        // The server rejects a pattern ending in a single backslash, so escape it.
        let trailing = pattern.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            pattern.push('\\');
        }
        pattern
    });
    prop_oneof![4 => built, 1 => raw].boxed()
}

/// Builds an object from `entries`, keeping the first value of a repeated key.
fn object(entries: Vec<(String, Value)>) -> Value {
    let mut object = Map::new();
    for (key, value) in entries {
        object.entry(key).or_insert(value);
    }
    Value::Object(object)
}

/// Generates one operator and operand of a `String_comparison_exp`.
fn text_comparison(pool: &[String]) -> BoxedStrategy<(String, Value)> {
    prop_oneof![
        3 => (select(COMPARISON_OPERATORS.to_vec()), text_value(pool))
            .prop_map(|(operator, operand)| (operator.to_owned(), json!(operand))),
        3 => (select(PATTERN_OPERATORS.to_vec()), pattern(pool))
            .prop_map(|(operator, operand)| (operator.to_owned(), json!(operand))),
        2 => (
            select(vec!["_in", "_nin"]),
            prop::collection::vec(text_value(pool), 0..4),
        )
            .prop_map(|(operator, operands)| (operator.to_owned(), json!(operands))),
        1 => prop::bool::ANY.prop_map(|is_null| ("_is_null".to_owned(), json!(is_null))),
    ]
    .boxed()
}

/// Generates a seeded `createdAt` moved by -1, 0 or +1 microsecond, written in UTC or at +02:00.
fn time_operand(timestamps: &[DateTime<Utc>]) -> BoxedStrategy<String> {
    (select(timestamps.to_vec()), -1i64..=1, prop::bool::ANY)
        .prop_map(|(time, shift, offset)| {
            let time = time + Duration::microseconds(shift);
            if offset {
                let plus_two = FixedOffset::east_opt(2 * 3600).expect("a valid offset");
                time.with_timezone(&plus_two)
                    .to_rfc3339_opts(SecondsFormat::Micros, false)
            } else {
                time.to_rfc3339_opts(SecondsFormat::Micros, true)
            }
        })
        .boxed()
}

/// Generates one key of a bool_exp that compares a column. An empty comparison
/// object (`{title: {}}`) is true, so it is generated as well.
fn column_entry(pool: &[String], timestamps: &[DateTime<Utc>]) -> BoxedStrategy<(String, Value)> {
    let text = (
        select(TEXT_COLUMNS.to_vec()),
        prop::collection::vec(text_comparison(pool), 0..=2),
    )
        .prop_map(|(column, comparisons)| (column.to_owned(), object(comparisons)));
    let time = prop::collection::vec(
        (
            select(COMPARISON_OPERATORS.to_vec()),
            time_operand(timestamps),
        )
            .prop_map(|(operator, operand)| (operator.to_owned(), json!(operand))),
        1..=2,
    )
    .prop_map(|comparisons| ("createdAt".to_owned(), object(comparisons)));
    prop_oneof![4 => text, 1 => time].boxed()
}

/// Generates a `data_controllers_bool_exp` nested at most four objects deep.
/// Small trees dominate, because a large one tends to select all rows or none
/// and so hides a wrong result in one of its branches.
fn filter(pool: Vec<String>, timestamps: Vec<DateTime<Utc>>) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        1 => Just(json!({})),
        8 => prop::collection::vec(column_entry(&pool, &timestamps), 1..=2).prop_map(object),
    ];
    leaf.prop_recursive(3, 12, 2, move |inner| {
        let entry = prop_oneof![
            3 => column_entry(&pool, &timestamps),
            1 => prop::collection::vec(inner.clone(), 0..=3)
                .prop_map(|items| ("_and".to_owned(), Value::Array(items))),
            1 => prop::collection::vec(inner.clone(), 0..=3)
                .prop_map(|items| ("_or".to_owned(), Value::Array(items))),
            2 => inner.prop_map(|item| ("_not".to_owned(), item)),
        ];
        prop::collection::vec(entry, 1..=2).prop_map(object)
    })
}

fn case_count() -> u32 {
    match std::env::var("PROPTEST_CASES") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("PROPTEST_CASES must be a whole number, not {text:?}")),
        Err(_) => 256,
    }
}

#[test]
fn where_filters_match_evaluator() {
    // proptest drives synchronous closures, so each case enters this runtime
    // with `block_on`. The server runs on the runtime's worker threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("build a tokio runtime");
    let app = runtime.block_on(spawn_app());
    let rows = runtime.block_on(seed_controllers(&app));
    let mut timestamps: Vec<DateTime<Utc>> = rows.iter().map(|row| row.created_at).collect();
    timestamps.sort();
    timestamps.dedup();
    assert!(
        timestamps.len() > 1,
        "the batches share one createdAt: {timestamps:?}"
    );

    let cases = case_count();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    // Cases whose expected rows are neither none nor all, which shows the
    // generator reaches the interesting middle.
    let partial = std::cell::Cell::new(0u32);
    let started = Instant::now();

    let result = runner.run(&filter(operand_pool(), timestamps), |filter| {
        let expected = expected_ids(&filter, &rows);
        let actual = runtime
            .block_on(filtered_ids(&app, &filter))
            .map_err(TestCaseError::fail)?;
        if !expected.is_empty() && expected.len() < rows.len() {
            partial.set(partial.get() + 1);
        }
        let missing: BTreeSet<Uuid> = expected.difference(&actual).copied().collect();
        let extra: BTreeSet<Uuid> = actual.difference(&expected).copied().collect();
        prop_assert!(
            missing.is_empty() && extra.is_empty(),
            "filter {filter}\n  the evaluator selects but the server does not: {:?}\n  \
             the server selects but the evaluator does not: {:?}",
            titles(&rows, &missing),
            titles(&rows, &extra),
        );
        Ok(())
    });

    let elapsed = started.elapsed();
    runtime.block_on(async move { drop(app) });
    if let Err(error) = result {
        panic!("{error}");
    }
    eprintln!(
        "where property: {cases} cases ({} with a partial match) in {:.1} s",
        partial.get(),
        elapsed.as_secs_f64()
    );
    assert!(
        cases < 16 || partial.get() > 0,
        "no case selected some but not all rows; the generator is too narrow"
    );
}

/// Hand-written filters with the titles they must select: a check of the
/// evaluator itself and of the server on the rules that matter most.
#[tokio::test]
async fn where_edge_cases_match_documented_rules() {
    let app = spawn_app().await;
    let rows = seed_controllers(&app).await;
    let all: BTreeSet<&str> = CONTROLLERS.iter().map(|seed| seed.0).collect();
    let without = |excluded: &[&str]| -> BTreeSet<&str> {
        all.iter()
            .copied()
            .filter(|title| !excluded.contains(title))
            .collect()
    };
    let null_description: Vec<&str> = CONTROLLERS
        .iter()
        .filter(|seed| seed.1.is_none())
        .map(|seed| seed.0)
        .collect();
    let cases: Vec<(Value, BTreeSet<&str>)> = vec![
        (json!({}), all.clone()),
        (json!({ "_and": [] }), all.clone()),
        (json!({ "_or": [] }), BTreeSet::new()),
        (json!({ "_not": {} }), BTreeSet::new()),
        (json!({ "title": {} }), all.clone()),
        // A null column makes `_neq` unknown, and `_not` keeps it unknown.
        (
            json!({ "description": { "_neq": "zzz" } }),
            without(&[&null_description[..], &["ZZZ"]].concat()),
        ),
        (
            json!({ "_not": { "description": { "_eq": "zzz" } } }),
            without(&[&null_description[..], &["ZZZ"]].concat()),
        ),
        (json!({ "description": { "_nin": [] } }), all.clone()),
        (
            json!({ "_not": { "description": { "_in": [] } } }),
            all.clone(),
        ),
        (json!({ "description": { "_nlike": "%" } }), BTreeSet::new()),
        // `_ilike` folds ASCII letters only, and `_like` is case-sensitive.
        (
            json!({ "title": { "_ilike": "acme%" } }),
            BTreeSet::from(["Acme", "acme", "ACME Corp"]),
        ),
        (
            json!({ "title": { "_like": "acme%" } }),
            BTreeSet::from(["acme"]),
        ),
        (
            json!({ "title": { "_ilike": "café%" } }),
            BTreeSet::from(["Café Zürich"]),
        ),
        // Escaped wildcards are literal. `_` is one character, also an emoji.
        (
            json!({ "title": { "_like": "a\\_b" } }),
            BTreeSet::from(["a_b"]),
        ),
        (
            json!({ "title": { "_like": "a\\\\\\%b" } }),
            BTreeSet::from(["a\\%b"]),
        ),
        (
            json!({ "title": { "_like": "%\\\\%" } }),
            BTreeSet::from(["back\\slash", "a\\%b"]),
        ),
        (
            json!({ "title": { "_like": "_" } }),
            BTreeSet::from(["🔥", " ", "a", "A"]),
        ),
        (
            json!({ "title": { "_like": "e_cole" } }),
            BTreeSet::from(["e\u{301}cole"]),
        ),
        // Byte order: uppercase before lowercase, ASCII before the rest.
        (
            json!({ "title": { "_gt": "zzz" } }),
            BTreeSet::from(["ÅLAND Øy", "日本語の会社", "🚀 Rocket", "🔥"]),
        ),
        (
            json!({ "title": { "_lt": "A" } }),
            BTreeSet::from(["100% Organic", "\"Quoted\" Ltd", " ", "", "  padded  "]),
        ),
    ];

    for (filter, expected_titles) in cases {
        let expected: BTreeSet<Uuid> = rows
            .iter()
            .filter(|row| expected_titles.contains(row.title.as_str()))
            .map(|row| row.id)
            .collect();
        assert_eq!(
            titles(&rows, &expected_ids(&filter, &rows)),
            titles(&rows, &expected),
            "the evaluator disagrees with the documented rules on {filter}"
        );
        let actual = filtered_ids(&app, &filter)
            .await
            .unwrap_or_else(|message| panic!("{message}"));
        assert_eq!(
            titles(&rows, &actual),
            titles(&rows, &expected),
            "the server disagrees with the documented rules on {filter}"
        );
    }
}

/// `_ilike` selects the same rows on both backends: it folds ASCII letters
/// only, so a title that differs in the case of `É` does not match.
#[tokio::test]
async fn ilike_folds_non_ascii_alike_on_both_backends() {
    let app = spawn_app().await;
    let response = app
        .graphql_admin(
            "mutation { insertDataControllers(objects: [{title: \"ÉCOLE\"}, {title: \"école\"}]) { affectedRows } }",
            json!({}),
        )
        .await;
    assert_eq!(
        response.data()["insertDataControllers"]["affectedRows"],
        json!(2)
    );

    let response = app
        .graphql_admin(
            "{ dataControllers(where: {title: {_ilike: \"école\"}}) { title } }",
            json!({}),
        )
        .await;

    // SQLite's result, which docs/api-notes.md describes for SQLite.
    assert_eq!(
        response.data()["dataControllers"],
        json!([{ "title": "école" }]),
        "{}",
        response.body
    );
}

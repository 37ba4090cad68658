//! How deep a query's syntax tree can be, from its tokens alone, before it is parsed.
//! `a AND b AND c ...` parses in a loop into a tree one level deeper per operator, and
//! everything after the parser (its visitor, printing, dropping the tree, DataFusion's
//! planner) walks that tree recursively: 4,000 terms overflowed the stack (issue 15). So a
//! query whose tree could be deeper than [`MAX_EXPR_DEPTH`] is refused with its place
//! before a tree is built.
//!
//! The bound: in one bracket group (`(...)`, `[...]`, `{...}`, `CASE ... END`), items
//! separated by commas are separate expressions, so an expression is at most as deep as
//! the operator tokens of its item (every word that is a keyword, every symbol) plus the
//! deepest group inside it. Set operations (`UNION`, `INTERSECT`, `EXCEPT`) chain whole
//! queries across commas, so they count for the whole group. Identifiers and literals
//! never add a level. The bound over-counts (a keyword such as `FROM` adds nothing), which
//! only matters for queries far larger than any hand-written one.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan};

use super::{SqlProblem, offset_of};

/// The deepest expression a query may hold, by the bound above. Five hundred operators in
/// one expression is far beyond a hand-written query. The engine's check (DataFusion)
/// names every subexpression, which grows with the square of the depth: at this limit a
/// debug build validates in about a second, and plans on a 2 MiB thread stack.
pub const MAX_EXPR_DEPTH: usize = 500;

/// The deepest nesting of brackets, subqueries and CASE a query may hold: the SQL parser
/// recurses once per level (it is given a recursion limit above this).
pub const MAX_GROUP_DEPTH: usize = 64;

/// Why a query is too deep, and where (the token at which the bound passed the limit).
#[derive(Debug, Clone, PartialEq)]
pub struct TooDeep {
    pub at: Location,
    /// True when brackets nest too deeply; false for a long chain of operators.
    pub brackets: bool,
}

/// The problem of a query whose tree could be deeper than weir reads.
pub(super) fn problem(query: &str, deep: &TooDeep) -> SqlProblem {
    let start = offset_of(query, deep.at).min(query.len());
    let end = query[start..]
        .find(char::is_whitespace)
        .map_or(query.len(), |e| start + e)
        .max((start + 1).min(query.len()));
    let (message, hint) = if deep.brackets {
        (
            format!(
                "the query nests brackets, subqueries or CASE deeper than {} levels",
                MAX_GROUP_DEPTH
            ),
            "name inner queries with CREATE VIEW name AS ... and read them by name",
        )
    } else {
        (
            format!(
                "expression nested deeper than {} levels: each AND, OR, || or + of a chain nests one level",
                MAX_EXPR_DEPTH
            ),
            "split the expression: compute parts in CREATE VIEW steps, or test many values with IN (...)",
        )
    };
    SqlProblem {
        start,
        end,
        code: "sql-too-deep",
        message,
        hint: Some(hint.into()),
    }
}

/// One open bracket group.
struct Group {
    /// `CASE ... END`: `WHEN`, `THEN` and `ELSE` separate its expressions.
    case: bool,
    /// The bound of the groups around this one, where it was opened.
    base: usize,
    /// Operator tokens of the current item (since the last comma).
    ops: usize,
    /// Set operations in the whole group.
    set_ops: usize,
    /// The deepest bound of a group closed inside the current item.
    child: usize,
    /// The deepest bound of any item of this group so far.
    deepest: usize,
}

impl Group {
    fn new(case: bool, base: usize) -> Group {
        Group {
            case,
            base,
            ops: 0,
            set_ops: 0,
            child: 0,
            deepest: 0,
        }
    }

    /// The bound of the current item, not counting the groups around this one.
    fn item(&self) -> usize {
        self.ops + self.set_ops + self.child + 1
    }

    fn end_item(&mut self) {
        self.deepest = self.deepest.max(self.item());
        self.ops = 0;
        self.child = 0;
    }
}

/// The first place where the query's tree could pass the limits, if any.
pub fn too_deep(tokens: &[TokenWithSpan]) -> Option<TooDeep> {
    too_deep_with(tokens, MAX_EXPR_DEPTH)
}

fn too_deep_with(tokens: &[TokenWithSpan], limit: usize) -> Option<TooDeep> {
    let mut stack = vec![Group::new(false, 0)];
    for t in tokens {
        let at = t.span.start;
        let top = stack.last_mut()?;
        match &t.token {
            Token::Whitespace(_) | Token::EOF => continue,
            Token::Comma | Token::SemiColon => top.end_item(),
            Token::LParen | Token::LBracket | Token::LBrace => {
                let base = top.base + top.item();
                stack.push(Group::new(false, base));
                if stack.len() > MAX_GROUP_DEPTH {
                    return Some(TooDeep { at, brackets: true });
                }
            }
            Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::CASE => {
                top.ops += 1;
                let base = top.base + top.item();
                stack.push(Group::new(true, base));
                if stack.len() > MAX_GROUP_DEPTH {
                    return Some(TooDeep { at, brackets: true });
                }
            }
            Token::RParen | Token::RBracket | Token::RBrace => close(&mut stack),
            Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::END && top.case => {
                close(&mut stack)
            }
            Token::Word(w)
                if w.quote_style.is_none()
                    && top.case
                    && matches!(w.keyword, Keyword::WHEN | Keyword::THEN | Keyword::ELSE) =>
            {
                top.end_item()
            }
            Token::Word(w)
                if w.quote_style.is_none()
                    && matches!(
                        w.keyword,
                        Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT | Keyword::MINUS
                    ) =>
            {
                top.set_ops += 1
            }
            Token::Word(w) if w.quote_style.is_some() || w.keyword == Keyword::NoKeyword => {}
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::NationalStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::HexStringLiteral(_) => {}
            _ => top.ops += 1,
        }
        if let Some(top) = stack.last()
            && top.base + top.item() > limit
        {
            return Some(TooDeep {
                at,
                brackets: false,
            });
        }
    }
    None
}

/// Close the innermost group (a `)` closes any bracket; `END` only a `CASE`): its bound
/// becomes a child of the item around it. A stray closer is left to the parser.
fn close(stack: &mut Vec<Group>) {
    if stack.len() < 2 {
        return;
    }
    let Some(mut group) = stack.pop() else {
        return;
    };
    group.end_item();
    if let Some(parent) = stack.last_mut() {
        parent.child = parent.child.max(group.deepest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::GenericDialect;
    use sqlparser::tokenizer::Tokenizer;

    fn bound(sql: &str, limit: usize) -> Option<TooDeep> {
        let tokens = Tokenizer::new(&GenericDialect {}, sql)
            .tokenize_with_location()
            .unwrap();
        too_deep_with(&tokens, limit)
    }

    fn chain(op: &str, n: usize) -> String {
        let terms: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        format!("SELECT {} FROM t", terms.join(&format!(" {op} ")))
    }

    #[test]
    fn long_chains_are_caught_where_they_pass_the_limit() {
        for op in ["AND", "OR", "||", "+"] {
            let sql = chain(op, 200);
            let deep = bound(&sql, 100).unwrap_or_else(|| panic!("{op}"));
            assert!(!deep.brackets);
            assert_eq!(deep.at.line, 1);
            assert!(bound(&chain(op, 50), 100).is_none(), "{op}");
        }
    }

    #[test]
    fn lists_case_arms_and_literals_do_not_add_up() {
        let items: Vec<String> = (0..500).map(|i| format!("c{i} AS a{i}")).collect();
        let list = format!("SELECT {} FROM t", items.join(", "));
        assert!(bound(&list, 100).is_none());
        let arms: String = (0..500)
            .map(|i| format!(" WHEN x = {i} THEN 'v{i}'"))
            .collect();
        assert!(bound(&format!("SELECT CASE{arms} END FROM t"), 100).is_none());
        let values: Vec<String> = (0..500).map(|i| i.to_string()).collect();
        let sql = format!("SELECT * FROM t WHERE x IN ({})", values.join(", "));
        assert!(bound(&sql, 100).is_none());
    }

    #[test]
    fn the_check_refuses_with_the_place_and_parses_up_to_the_limits() {
        // on a test thread's 2 MiB stack: the deepest query allowed parses and is walked
        let parens = |n: usize| format!("SELECT {}x{} FROM t", "(".repeat(n), ")".repeat(n));
        assert_eq!(
            super::super::check(&parens(MAX_GROUP_DEPTH - 2), &["t"]),
            vec![]
        );
        let p = super::super::check(&parens(MAX_GROUP_DEPTH + 1), &["t"]);
        assert_eq!(p[0].code, "sql-too-deep");
        assert!(p[0].message.contains("brackets"), "{}", p[0].message);
        let ok = chain("+", MAX_EXPR_DEPTH - 10);
        assert_eq!(super::super::check(&ok, &["t"]), vec![]);
        for n in [4_000, 20_000] {
            let sql = chain("AND", n);
            let p = super::super::check(&sql, &["t"]);
            assert_eq!(p.len(), 1);
            assert_eq!(p[0].code, "sql-too-deep");
            assert!(
                p[0].message.contains("nested deeper than 500"),
                "{}",
                p[0].message
            );
            // at the operator that passes the limit
            assert!(
                sql[p[0].start..].starts_with("AND c"),
                "{}",
                &sql[p[0].start..]
            );
        }
    }

    #[test]
    fn chains_inside_brackets_and_unions_across_commas_count() {
        // a chain inside a bracket inside a chain adds up
        let inner: Vec<String> = (0..30).map(|i| format!("c{i}")).collect();
        let term = format!("({})", inner.join(" + "));
        let outer: Vec<String> = (0..30).map(|_| term.clone()).collect();
        assert!(bound(&format!("SELECT {} FROM t", outer.join(" * ")), 50).is_some());
        // CASE ... END + CASE ... END + ... is a chain
        let cases: Vec<&str> = (0..60).map(|_| "CASE WHEN a THEN 1 END").collect();
        assert!(bound(&format!("SELECT {} FROM t", cases.join(" + ")), 50).is_some());
        // UNION chains whole queries, commas and all
        let selects: Vec<&str> = (0..60).map(|_| "SELECT a, b FROM t").collect();
        assert!(bound(&selects.join(" UNION ALL "), 50).is_some());
        let parens = format!("SELECT {}1{} FROM t", "(".repeat(70), ")".repeat(70));
        assert!(bound(&parens, 1000).unwrap().brackets);
    }
}

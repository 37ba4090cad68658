// Long because a lexer and a recursive-descent parser that keep spans and comments are one
// state machine; splitting the token kinds from the value grammar would scatter it.
//! RON syntax for job files: a lexer and parser that keep every value's byte span and the
//! comments around it, so that diagnostics can point at the exact line and column and
//! `weir fmt` can rewrite a file without losing its comments. Typed decoding lives in
//! `de.rs`; this module knows nothing of jobs.

use std::fmt;

/// Byte offsets into the source, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// An identifier with its position: field names, struct and variant names.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// Comments that belong to an item: full-line comments written before it, and one comment
/// on the same line after it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comments {
    pub leading: Vec<String>,
    pub trailing: Option<String>,
}

impl Comments {
    pub fn is_empty(&self) -> bool {
        self.leading.is_empty() && self.trailing.is_none()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: Kind,
    pub span: Span,
    pub comments: Comments,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: Ident,
    pub value: Value,
    pub comments: Comments,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    pub key: Value,
    pub value: Value,
    pub comments: Comments,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `()`
    Unit,
    Bool(bool),
    /// Integers keep their value; `text` is how they were written.
    Int(i128),
    Float(f64),
    Str(String),
    Char(char),
    /// A bare identifier: a unit enum variant such as `Latest`, or `None`.
    Ident(Ident),
    /// `[a, b]`; `closing` holds comments written before `]`.
    List {
        items: Vec<Value>,
        closing: Vec<String>,
    },
    /// `{k: v}`
    Map {
        entries: Vec<MapEntry>,
        closing: Vec<String>,
    },
    /// `(a, b)` or `Name(a, b)`, including `Some(x)`.
    Tuple {
        name: Option<Ident>,
        items: Vec<Value>,
        closing: Vec<String>,
    },
    /// `(a: 1)` or `Name(a: 1)`; `Name()` is a struct with no fields.
    Struct {
        name: Option<Ident>,
        fields: Vec<Field>,
        closing: Vec<String>,
    },
}

impl Kind {
    /// What a user would call this kind of value, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match self {
            Kind::Unit => "`()`".into(),
            Kind::Bool(b) => format!("boolean `{b}`"),
            Kind::Int(i) => format!("integer `{i}`"),
            Kind::Float(f) => format!("number `{f}`"),
            Kind::Str(s) => format!("string {s:?}"),
            Kind::Char(c) => format!("character {c:?}"),
            Kind::Ident(i) => format!("`{}`", i.name),
            Kind::List { .. } => "a list `[...]`".into(),
            Kind::Map { .. } => "a map `{...}`".into(),
            Kind::Tuple { name: Some(n), .. } => format!("`{}(...)`", n.name),
            Kind::Tuple { name: None, .. } => "a tuple `(...)`".into(),
            Kind::Struct { name: Some(n), .. } => format!("`{}(...)`", n.name),
            Kind::Struct { name: None, .. } => "a struct `(...)`".into(),
        }
    }
}

impl Value {
    /// The value of field `name` when this value is a struct.
    pub fn field(&self, name: &str) -> Option<&Field> {
        match &self.kind {
            Kind::Struct { fields, .. } => fields.iter().find(|f| f.name.name == name),
            _ => None,
        }
    }

    /// The items of a list, tuple or the fields' values of a struct, by index.
    pub fn item(&self, index: usize) -> Option<&Value> {
        match &self.kind {
            Kind::List { items, .. } | Kind::Tuple { items, .. } => items.get(index),
            _ => None,
        }
    }

    /// Where a struct or variant name is, else the whole value: the best place to point at
    /// when something is wrong with the value as a whole.
    pub fn head_span(&self) -> Span {
        match &self.kind {
            Kind::Tuple { name: Some(n), .. } | Kind::Struct { name: Some(n), .. } => n.span,
            Kind::Ident(i) => i.span,
            Kind::List { .. } | Kind::Map { .. } | Kind::Tuple { .. } | Kind::Struct { .. } => {
                Span::new(self.span.start, (self.span.start + 1).min(self.span.end))
            }
            _ => self.span,
        }
    }
}

/// A syntax error: where, what, and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Ident(String),
    Int(i128),
    Float(f64),
    Str(String),
    Char(char),
    LineComment(String),
    BlockComment(String),
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Colon => "`:`".into(),
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Int(i) => format!("`{i}`"),
            Tok::Float(f) => format!("`{f}`"),
            Tok::Str(_) => "a string".into(),
            Tok::Char(_) => "a character".into(),
            Tok::LineComment(_) | Tok::BlockComment(_) => "a comment".into(),
            Tok::Eof => "the end of the file".into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    span: Span,
    /// The token is the first thing on its line (comments use this to decide whether they
    /// trail the previous item or lead the next one).
    line_start: bool,
}

fn err(span: Span, message: impl Into<String>, hint: Option<&str>) -> SyntaxError {
    SyntaxError {
        span,
        message: message.into(),
        hint: hint.map(str::to_string),
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// True until a non-blank character is seen on the current line.
    at_line_start: bool,
}

impl<'a> Lexer<'a> {
    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn tokens(mut self) -> Result<Vec<Token>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            // skip blanks
            while let Some(c) = self.peek_char() {
                if c == '\n' {
                    self.at_line_start = true;
                    self.pos += 1;
                } else if c.is_whitespace() {
                    self.pos += c.len_utf8();
                } else {
                    break;
                }
            }
            let line_start = self.at_line_start;
            let start = self.pos;
            let Some(c) = self.bump() else {
                out.push(Token {
                    tok: Tok::Eof,
                    span: Span::new(start, start),
                    line_start,
                });
                return Ok(out);
            };
            self.at_line_start = false;
            let tok = match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                '[' => Tok::LBracket,
                ']' => Tok::RBracket,
                '{' => Tok::LBrace,
                '}' => Tok::RBrace,
                ',' => Tok::Comma,
                ':' => Tok::Colon,
                '/' if self.peek_char() == Some('/') => {
                    let end = self.src[self.pos..]
                        .find('\n')
                        .map_or(self.src.len(), |i| self.pos + i);
                    let text = self.src[start + 2..end].trim_end().to_string();
                    self.pos = end;
                    Tok::LineComment(text)
                }
                '/' if self.peek_char() == Some('*') => {
                    self.pos += 1;
                    let mut depth = 1;
                    while depth > 0 {
                        match self.bump() {
                            None => {
                                return Err(err(
                                    Span::new(start, start + 2),
                                    "unterminated block comment",
                                    Some("close it with `*/`"),
                                ));
                            }
                            Some('*') if self.peek_char() == Some('/') => {
                                self.pos += 1;
                                depth -= 1;
                            }
                            Some('/') if self.peek_char() == Some('*') => {
                                self.pos += 1;
                                depth += 1;
                            }
                            Some(_) => {}
                        }
                    }
                    Tok::BlockComment(self.src[start + 2..self.pos - 2].to_string())
                }
                '#' if self.peek_char() == Some('!') => {
                    // `#![enable(...)]` extension attribute: accepted and ignored, because
                    // the decoder already accepts implicit `Some` and unwrapped newtypes.
                    let end = self.src[self.pos..].find(']').ok_or_else(|| {
                        err(
                            Span::new(start, start + 2),
                            "unterminated `#![...]` attribute",
                            Some("close it with `]`"),
                        )
                    })?;
                    self.pos += end + 1;
                    continue;
                }
                '"' => Tok::Str(self.string(start)?),
                'r' if matches!(self.peek_char(), Some('"'))
                    || (self.peek_char() == Some('#')
                        && matches!(self.peek_at(1), Some('"' | '#'))) =>
                {
                    Tok::Str(self.raw_string(start)?)
                }
                'b' if matches!(self.peek_char(), Some('"' | '\'')) => {
                    return Err(err(
                        Span::new(start, start + 1),
                        "byte strings are not used in job files",
                        Some("write a plain string: \"...\""),
                    ));
                }
                '\'' => Tok::Char(self.char_lit(start)?),
                c if c.is_ascii_digit()
                    || ((c == '-' || c == '+')
                        && self
                            .peek_char()
                            .is_some_and(|d| d.is_ascii_digit() || d == '.' || d == 'i')) =>
                {
                    self.number(start)?
                }
                '.' if self.peek_char().is_some_and(|d| d.is_ascii_digit()) => {
                    self.number(start)?
                }
                c if c == '_' || c.is_alphabetic() => {
                    if c == 'r' && self.peek_char() == Some('#') {
                        self.pos += 1;
                        if !self
                            .peek_char()
                            .is_some_and(|d| d == '_' || d.is_alphanumeric())
                        {
                            return Err(err(
                                Span::new(start, self.pos),
                                "`r#` must be followed by a name",
                                Some("a raw name is written r#name; a raw string r#\"...\"#"),
                            ));
                        }
                    }
                    while self
                        .peek_char()
                        .is_some_and(|d| d == '_' || d.is_alphanumeric())
                    {
                        self.bump();
                    }
                    let text = &self.src[start..self.pos];
                    Tok::Ident(text.strip_prefix("r#").unwrap_or(text).to_string())
                }
                other => {
                    let hint = match other {
                        ';' => Some("RON separates items with `,`, not `;`"),
                        '=' => Some("RON writes fields as `name: value`, not `name = value`"),
                        _ => None,
                    };
                    return Err(err(
                        Span::new(start, self.pos),
                        format!("unexpected character {other:?}"),
                        hint,
                    ));
                }
            };
            out.push(Token {
                tok,
                span: Span::new(start, self.pos),
                line_start,
            });
        }
    }

    fn escape(&mut self, start: usize) -> Result<char, SyntaxError> {
        let esc_start = self.pos - 1;
        let bad = |lexer: &Self, what: &str| {
            err(
                Span::new(esc_start, lexer.pos),
                format!("invalid escape {what} in string"),
                Some("valid escapes: \\n \\t \\r \\\\ \\\" \\' \\0 \\u{XXXX} \\xNN"),
            )
        };
        let Some(c) = self.bump() else {
            return Err(err(
                Span::new(start, self.pos),
                "unterminated string",
                Some("close it with `\"`"),
            ));
        };
        Ok(match c {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            '\\' => '\\',
            '"' => '"',
            '\'' => '\'',
            'x' => {
                let hex: String = (0..2).filter_map(|_| self.bump()).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) if b < 0x80 => b as char,
                    _ => return Err(bad(self, &format!("`\\x{hex}`"))),
                }
            }
            'u' => {
                if self.bump() != Some('{') {
                    return Err(bad(self, "`\\u` (write \\u{XXXX})"));
                }
                let mut hex = String::new();
                loop {
                    match self.bump() {
                        Some('}') => break,
                        Some(h) if h.is_ascii_hexdigit() && hex.len() < 6 => hex.push(h),
                        _ => return Err(bad(self, &format!("`\\u{{{hex}`"))),
                    }
                }
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| bad(self, &format!("`\\u{{{hex}}}`")))?
            }
            '\n' => {
                // line continuation: skip the newline and leading blanks
                while self.peek_char().is_some_and(char::is_whitespace) {
                    self.bump();
                }
                return self.string_char(start);
            }
            other => return Err(bad(self, &format!("`\\{other}`"))),
        })
    }

    /// The next character of a string body after a line continuation.
    fn string_char(&mut self, start: usize) -> Result<char, SyntaxError> {
        match self.bump() {
            Some('\\') => self.escape(start),
            Some(c) => Ok(c),
            None => Err(err(
                Span::new(start, self.pos),
                "unterminated string",
                Some("close it with `\"`"),
            )),
        }
    }

    fn string(&mut self, start: usize) -> Result<String, SyntaxError> {
        let mut s = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(err(
                        Span::new(start, start + 1),
                        "unterminated string",
                        Some("close it with `\"`"),
                    ));
                }
                Some('"') => return Ok(s),
                Some('\\') => {
                    if self.peek_char() == Some('\n') {
                        self.bump();
                        while self.peek_char().is_some_and(char::is_whitespace) {
                            self.bump();
                        }
                        continue;
                    }
                    s.push(self.escape(start)?)
                }
                Some(c) => s.push(c),
            }
        }
    }

    fn raw_string(&mut self, start: usize) -> Result<String, SyntaxError> {
        let mut hashes = 0;
        while self.peek_char() == Some('#') {
            self.bump();
            hashes += 1;
        }
        if self.bump() != Some('"') {
            return Err(err(
                Span::new(start, self.pos),
                "malformed raw string",
                Some("write r#\"...\"#"),
            ));
        }
        let close: String = std::iter::once('"')
            .chain(std::iter::repeat_n('#', hashes))
            .collect();
        match self.src[self.pos..].find(&close) {
            Some(i) => {
                let s = self.src[self.pos..self.pos + i].to_string();
                self.pos += i + close.len();
                Ok(s)
            }
            None => Err(err(
                Span::new(start, self.pos),
                "unterminated raw string",
                Some(&format!("close it with `{close}`")),
            )),
        }
    }

    fn char_lit(&mut self, start: usize) -> Result<char, SyntaxError> {
        let c = match self.bump() {
            Some('\\') => self.escape(start)?,
            Some(c) => c,
            None => {
                return Err(err(
                    Span::new(start, self.pos),
                    "unterminated character literal",
                    None,
                ));
            }
        };
        if self.bump() != Some('\'') {
            return Err(err(
                Span::new(start, self.pos),
                "unterminated character literal",
                Some("strings use double quotes: \"text\""),
            ));
        }
        Ok(c)
    }

    fn number(&mut self, start: usize) -> Result<Tok, SyntaxError> {
        while self
            .peek_char()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            || (matches!(self.peek_char(), Some('+' | '-'))
                && matches!(self.src[..self.pos].chars().last(), Some('e' | 'E'))
                && !self.src[start..self.pos].contains(['x', 'b', 'o']))
        {
            self.bump();
        }
        let text: String = self.src[start..self.pos]
            .chars()
            .filter(|&c| c != '_')
            .collect();
        let span = Span::new(start, self.pos);
        let (neg, body) = match text.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, text.strip_prefix('+').unwrap_or(&text)),
        };
        let radix = [("0x", 16), ("0b", 2), ("0o", 8)]
            .iter()
            .find(|(p, _)| body.starts_with(p));
        if let Some((prefix, radix)) = radix {
            let v = i128::from_str_radix(&body[prefix.len()..], *radix)
                .map_err(|_| err(span, format!("malformed number {}", shown(&text)), None))?;
            return Ok(Tok::Int(if neg { -v } else { v }));
        }
        // the sign is parsed with the digits, so that i128::MIN is read too
        if let Ok(v) = text.parse::<i128>() {
            return Ok(Tok::Int(v));
        }
        // An integer that does not fit is refused rather than read as a float: `1e39` or
        // `inf` would be a different value, and `weir fmt` would write it (issue 15).
        if !body.is_empty() && body.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(
                span,
                format!("integer {} is too large", shown(&text)),
                Some(LARGEST_NUMBER),
            ));
        }
        if matches!(body, "inf" | "NaN") {
            return Err(err(
                span,
                format!("`{text}` is not a number a job holds"),
                Some("write a finite number, e.g. 5000 or 0.5"),
            ));
        }
        match body.parse::<f64>() {
            Ok(v)
                if body
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) =>
            {
                if v.is_finite() {
                    Ok(Tok::Float(if neg { -v } else { v }))
                } else {
                    // beyond f64's range: reading it as `inf` would change its meaning
                    Err(err(
                        span,
                        format!("number {} is too large", shown(&text)),
                        Some(
                            "a fractional number of a job (an alert's `above`) is at most about 1.8e308",
                        ),
                    ))
                }
            }
            _ => Err(err(
                span,
                format!("malformed number {}", shown(&text)),
                Some("write digits, e.g. 5000 or 0.5"),
            )),
        }
    }
}

/// The hint for numbers beyond what any field of a job holds.
const LARGEST_NUMBER: &str = "the largest number a job holds is 18446744073709551615 (u64)";

/// A number as a message shows it, in backticks: a long one by its first characters and
/// its length.
fn shown(text: &str) -> String {
    let len = text.chars().count();
    if len <= 40 {
        format!("`{text}`")
    } else {
        let head: String = text.chars().take(20).collect();
        format!("`{head}…` ({len} characters)")
    }
}

/// A parsed file: its one value and the comments after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    pub tail: Vec<String>,
}

/// Parse a whole RON document into a value tree.
pub fn parse(src: &str) -> Result<Document, SyntaxError> {
    let tokens = Lexer {
        src,
        // a UTF-8 byte order mark (as Windows editors write) is not part of the job
        pos: bom_len(src),
        at_line_start: true,
    }
    .tokens()?;
    let mut p = Parser {
        tokens,
        i: 0,
        pending: Vec::new(),
        depth: 0,
    };
    p.collect_comments();
    if p.peek().tok == Tok::Eof {
        return Err(err(
            Span::new(0, src.len().min(1)),
            "the file holds no job",
            Some("a job file starts with `Job(` (see formats/job-v1.md)"),
        ));
    }
    let value = p.value()?;
    p.collect_comments();
    let tail = std::mem::take(&mut p.pending);
    let t = p.peek().clone();
    if t.tok != Tok::Eof {
        return Err(err(
            t.span,
            format!("unexpected {} after the end of the job", t.tok.describe()),
            Some("a file holds one `Job(...)`; check for an extra `)` or text after it"),
        ));
    }
    Ok(Document { value, tail })
}

/// Nesting beyond this is rejected rather than risking a stack overflow on hostile input.
const MAX_DEPTH: usize = 128;

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    /// Comments seen since the last item, waiting for the next one.
    pending: Vec<String>,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.i.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    /// Move comments at the cursor into `pending`.
    fn collect_comments(&mut self) {
        while let Tok::LineComment(c) | Tok::BlockComment(c) = &self.peek().tok {
            let c = c.clone();
            self.next();
            self.pending.push(c);
        }
    }

    /// A comment right after an item on the same line trails that item.
    fn trailing_comment(&mut self) -> Option<String> {
        let t = self.peek();
        match &t.tok {
            Tok::LineComment(c) | Tok::BlockComment(c) if !t.line_start => {
                let c = c.clone();
                self.next();
                Some(c)
            }
            _ => None,
        }
    }

    fn expect(&mut self, want: Tok, context: &str) -> Result<Token, SyntaxError> {
        self.collect_comments();
        let t = self.next();
        if t.tok == want {
            Ok(t)
        } else {
            Err(err(
                t.span,
                format!(
                    "expected {} {context}, found {}",
                    want.describe(),
                    t.tok.describe()
                ),
                None,
            ))
        }
    }

    fn value(&mut self) -> Result<Value, SyntaxError> {
        self.collect_comments();
        let leading = std::mem::take(&mut self.pending);
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                self.peek().span,
                "values nested too deeply",
                Some("a job file nests only a few levels"),
            ));
        }
        let t = self.next();
        let start = t.span.start;
        let kind = match t.tok {
            Tok::Int(i) => Kind::Int(i),
            Tok::Float(f) => Kind::Float(f),
            Tok::Str(s) => Kind::Str(s),
            Tok::Char(c) => Kind::Char(c),
            Tok::Ident(name) if name == "true" => Kind::Bool(true),
            Tok::Ident(name) if name == "false" => Kind::Bool(false),
            Tok::Ident(name) => {
                let ident = Ident { name, span: t.span };
                if self.peek().tok == Tok::LParen {
                    self.next();
                    self.parens(Some(ident))?
                } else {
                    Kind::Ident(ident)
                }
            }
            Tok::LParen => self.parens(None)?,
            Tok::LBracket => {
                let (items, closing) = self.items(Tok::RBracket, "`]`")?;
                Kind::List { items, closing }
            }
            Tok::LBrace => self.map()?,
            other => {
                let hint = match other {
                    Tok::Comma => Some("there is an extra `,` or a missing value"),
                    Tok::Eof => Some("the file ends too early: check for a missing `)` or `]`"),
                    _ => None,
                };
                return Err(err(
                    t.span,
                    format!("expected a value, found {}", other.describe()),
                    hint,
                ));
            }
        };
        self.depth -= 1;
        let end = self.tokens[self.i.saturating_sub(1)].span.end;
        Ok(Value {
            kind,
            span: Span::new(start, end.max(start)),
            comments: Comments {
                leading,
                trailing: None,
            },
        })
    }

    /// After `(` (with an optional name before it): a unit, tuple or struct body.
    fn parens(&mut self, name: Option<Ident>) -> Result<Kind, SyntaxError> {
        self.collect_comments();
        if self.peek().tok == Tok::RParen {
            let closing = std::mem::take(&mut self.pending);
            self.next();
            return Ok(match name {
                None => Kind::Unit,
                Some(_) => Kind::Struct {
                    name,
                    fields: Vec::new(),
                    closing,
                },
            });
        }
        // `ident :` starts a struct body
        let is_struct = matches!(self.peek().tok, Tok::Ident(_))
            && self
                .tokens
                .get(self.i + 1)
                .is_some_and(|t| t.tok == Tok::Colon);
        if !is_struct {
            let (items, closing) = self.items(Tok::RParen, "`)`")?;
            return Ok(Kind::Tuple {
                name,
                items,
                closing,
            });
        }
        let mut fields = Vec::new();
        loop {
            self.collect_comments();
            let t = self.peek().clone();
            match &t.tok {
                Tok::RParen => {
                    self.next();
                    let closing = std::mem::take(&mut self.pending);
                    return Ok(Kind::Struct {
                        name,
                        fields,
                        closing,
                    });
                }
                Tok::Ident(field) => {
                    let leading = std::mem::take(&mut self.pending);
                    self.next();
                    let fname = Ident {
                        name: field.clone(),
                        span: t.span,
                    };
                    self.expect(Tok::Colon, &format!("after field name `{field}`"))?;
                    let value = self.value()?;
                    let mut comments = Comments {
                        leading,
                        trailing: None,
                    };
                    comments
                        .leading
                        .extend(value.comments.leading.iter().cloned());
                    let mut value = value;
                    value.comments.leading.clear();
                    let sep = self.separator(Tok::RParen, "`)`", "field")?;
                    comments.trailing = self.trailing_comment().or(sep);
                    fields.push(Field {
                        name: fname,
                        value,
                        comments,
                    });
                }
                other => {
                    let hint = match other {
                        Tok::Str(s) => Some(format!(
                            "field names are written without quotes: `{s}: ...`"
                        )),
                        Tok::Eof => Some("the file ends inside `(`: add the missing `)`".into()),
                        _ => Some("write `name: value`, separated by commas".into()),
                    };
                    return Err(SyntaxError {
                        span: t.span,
                        message: format!(
                            "expected a field name or `)`, found {}",
                            other.describe()
                        ),
                        hint,
                    });
                }
            }
        }
    }

    /// After an item: `,` or the closing token. Returns a comment that sat between the
    /// item and its comma on the same line.
    fn separator(
        &mut self,
        close: Tok,
        close_name: &str,
        what: &str,
    ) -> Result<Option<String>, SyntaxError> {
        let trailing = self.trailing_comment();
        self.collect_comments();
        let t = self.peek().clone();
        if t.tok == Tok::Comma {
            self.next();
            return Ok(trailing);
        }
        if t.tok == close {
            return Ok(trailing);
        }
        let hint = match t.tok {
            Tok::Eof => format!("the file ends too early: add the missing {close_name}"),
            _ => format!("add a `,` between the {what}s, or close with {close_name}"),
        };
        Err(err(
            t.span,
            format!(
                "expected `,` or {close_name} after a {what}, found {}",
                t.tok.describe()
            ),
            Some(&hint),
        ))
    }

    fn items(
        &mut self,
        close: Tok,
        close_name: &str,
    ) -> Result<(Vec<Value>, Vec<String>), SyntaxError> {
        let mut items = Vec::new();
        loop {
            self.collect_comments();
            if self.peek().tok == close {
                self.next();
                return Ok((items, std::mem::take(&mut self.pending)));
            }
            let mut v = self.value()?;
            let sep = self.separator(close.clone(), close_name, "item")?;
            v.comments.trailing = self.trailing_comment().or(sep);
            items.push(v);
        }
    }

    fn map(&mut self) -> Result<Kind, SyntaxError> {
        let mut entries = Vec::new();
        loop {
            self.collect_comments();
            if self.peek().tok == Tok::RBrace {
                self.next();
                return Ok(Kind::Map {
                    entries,
                    closing: std::mem::take(&mut self.pending),
                });
            }
            let mut key = self.value()?;
            let mut leading = std::mem::take(&mut key.comments.leading);
            self.expect(Tok::Colon, "between a map key and its value")?;
            let mut value = self.value()?;
            // comments between the key and the value go before the entry, as for fields
            leading.append(&mut value.comments.leading);
            let sep = self.separator(Tok::RBrace, "`}`", "map entry")?;
            let trailing = self.trailing_comment().or(sep);
            entries.push(MapEntry {
                key,
                value,
                comments: Comments { leading, trailing },
            });
        }
    }
}

/// Length of a leading UTF-8 byte order mark, which the parser skips.
pub fn bom_len(src: &str) -> usize {
    if src.starts_with('\u{feff}') { 3 } else { 0 }
}

/// Line and column (both 1-based, column counted in characters) of byte offsets.
/// A leading byte order mark is not counted: columns are what an editor shows.
pub struct LineIndex<'a> {
    src: &'a str,
    starts: Vec<usize>,
    /// Every [`CHECKPOINT`] bytes, at a character boundary: (byte, characters before it).
    /// A column on a long line is counted from the nearest checkpoint, so that many
    /// diagnostics on one long line (a job written on one line) cost no more than a few.
    checkpoints: Vec<(usize, usize)>,
}

const CHECKPOINT: usize = 1024;

impl<'a> LineIndex<'a> {
    pub fn new(src: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut checkpoints = vec![(0, 0)];
        if src.len() > CHECKPOINT {
            let mut next = CHECKPOINT;
            for (count, (i, _)) in src.char_indices().enumerate() {
                if i >= next {
                    checkpoints.push((i, count));
                    next = i + CHECKPOINT;
                }
            }
        }
        LineIndex {
            src,
            starts,
            checkpoints,
        }
    }

    /// Characters before byte `at`, a character boundary.
    fn chars_before(&self, at: usize) -> usize {
        let k = self.checkpoints.partition_point(|&(b, _)| b <= at) - 1;
        let (byte, count) = self.checkpoints[k];
        count + self.src.get(byte..at).map_or(0, |s| s.chars().count())
    }

    /// The byte where a 1-based line starts (after a byte order mark on line 1).
    pub fn line_start(&self, line: usize) -> usize {
        match self.starts.get(line.wrapping_sub(1)) {
            Some(_) if line == 1 => bom_len(self.src),
            Some(&start) => start,
            None => self.src.len(),
        }
    }

    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let mut start = self.starts[line];
        if line == 0 {
            start = bom_len(self.src).min(offset);
        }
        let col = match self.src.get(start..offset) {
            Some(_) => self.chars_before(offset) - self.chars_before(start),
            None => offset - start,
        };
        (line + 1, col + 1)
    }

    /// The text of a 1-based line, without its newline.
    pub fn line_text(&self, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let start = if line == 1 { bom_len(self.src) } else { start };
        let end = self.starts.get(line).map_or(self.src.len(), |&e| e - 1);
        self.src
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches('\r')
    }

    /// Byte offset of a 1-based line and character column.
    pub fn offset(&self, line: usize, col: usize) -> usize {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return self.src.len();
        };
        let start = if line == 1 { bom_len(self.src) } else { start };
        let text = &self.src[start..];
        start
            + text
                .char_indices()
                .nth(col.saturating_sub(1))
                .map_or(text.len(), |(i, _)| i)
    }
}

/// Map a byte offset inside the decoded text of a string literal back to a byte offset in
/// the source, so that errors inside embedded SQL point at the right place in the file.
pub fn string_offset_to_source(src: &str, literal: Span, decoded_offset: usize) -> usize {
    let Some(text) = src.get(literal.start..literal.end) else {
        return literal.start;
    };
    if text.starts_with('r') {
        let open = text.find('"').map_or(0, |i| i + 1);
        return (literal.start + open + decoded_offset).min(literal.end);
    }
    // Walk the escaped literal, counting decoded bytes.
    let mut decoded = 0;
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        // a line continuation decodes to nothing: the decoded text after it starts at
        // the first character of the next line that is not blank
        if c == '\\' && chars.peek().is_some_and(|&(_, n)| n == '\n') {
            chars.next();
            while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                chars.next();
            }
            continue;
        }
        if decoded >= decoded_offset {
            return literal.start + i;
        }
        if c == '\\' {
            match chars.next() {
                Some((_, 'u')) => {
                    let mut v = String::new();
                    for (_, h) in chars.by_ref() {
                        if h == '}' {
                            break;
                        }
                        if h != '{' {
                            v.push(h);
                        }
                    }
                    decoded += u32::from_str_radix(&v, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .map_or(1, char::len_utf8);
                }
                Some((_, 'x')) => {
                    chars.next();
                    chars.next();
                    decoded += 1;
                }
                Some((_, '\n')) => {
                    while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                        chars.next();
                    }
                }
                Some(_) => decoded += 1,
                None => {}
            }
        } else {
            decoded += c.len_utf8();
        }
    }
    literal.end.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_structs_enums_and_comments() {
        let src = "// top\nJob(\n  a: 1, // one\n  // before b\n  b: [Some(\"x\"), None, r#\"q\"#],\n  c: {\"k\": 1.5},\n  d: Retry(max: 3),\n)\n";
        let v = parse(src).unwrap().value;
        assert_eq!(v.comments.leading, vec![" top"]);
        let Kind::Struct { name, fields, .. } = &v.kind else {
            panic!()
        };
        assert_eq!(name.as_ref().unwrap().name, "Job");
        assert_eq!(fields.len(), 4);
        assert_eq!(fields[0].comments.trailing.as_deref(), Some(" one"));
        assert_eq!(fields[1].comments.leading, vec![" before b"]);
        assert!(matches!(fields[3].value.kind, Kind::Struct { .. }));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse("Job(a: 1 b: 2)").unwrap_err();
        assert_eq!(e.span.start, 9);
        assert!(e.message.contains("expected `,` or `)`"), "{}", e.message);
        assert!(parse("").unwrap_err().message.contains("no job"));
        assert!(
            parse("Job(a: \"x")
                .unwrap_err()
                .message
                .contains("unterminated string")
        );
        assert!(
            parse(&"[".repeat(1000))
                .unwrap_err()
                .message
                .contains("nested too deeply")
        );
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let src = "\u{feff}Job(version: x)";
        assert!(parse(src).is_ok());
        let idx = LineIndex::new(src);
        // columns are what an editor shows: the mark is not counted
        assert_eq!(idx.line_col(src.find("x").unwrap()), (1, 14));
        assert_eq!(idx.line_text(1), "Job(version: x)");
        assert_eq!(idx.offset(1, 14), src.find("x").unwrap());
    }

    #[test]
    fn comments_between_map_key_and_value_are_kept() {
        let src = "Job(env: {\"a\": /* k */ \"b\"})";
        let out = crate::jobfile::print::print_document(&parse(src).unwrap(), None);
        assert!(out.contains("// k"), "{out}");
    }

    #[test]
    fn line_index_and_string_offsets() {
        let src = "a\nbé c\n";
        let idx = LineIndex::new(src);
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(5), (2, 3));
        assert_eq!(idx.line_text(2), "bé c");
        let lit = "x: \"a\\nbc\"";
        let span = Span::new(3, lit.len());
        // decoded "a\nbc": offset 2 is 'b', which sits at byte 7 of the source
        assert_eq!(string_offset_to_source(lit, span, 2), 7);
        // a line continuation: decoded "a b" (offset 2 is 'b') continues on the next line
        let lit = "x: \"a \\\n    b\"";
        let span = Span::new(3, lit.len());
        assert_eq!(&lit[string_offset_to_source(lit, span, 2)..], "b\"");
    }
}

//! `.helmignore` rules exactly as Helm applies them (Go `filepath.Match` globs, not gitignore).
//!
//! A `.helmignore` file holds one rule per line. Helm's rules look like gitignore but are
//! not: there is no `**`, a rule without `/` is matched against the file's base name only,
//! a rule with `/` is matched against the whole path relative to the chart root (with Go's
//! `filepath.Match`, so `*` never crosses a `/`), a trailing `/` limits a rule to
//! directories, and a leading `!` negates a rule in Helm's own, rather surprising, way (see
//! [`HelmIgnore::is_ignored`]).

/// The rule Helm always adds when it loads a chart directory: hidden files and directories
/// directly under `templates/` are never loaded.
pub const DEFAULT_RULE: &str = "templates/.?*";

/// A `.helmignore` rule set, in file order.
#[derive(Clone, Debug, Default)]
pub struct HelmIgnore {
    rules: Vec<Rule>,
}

/// Why a `.helmignore` line was refused.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    /// The rule uses `**`, which Helm does not support.
    #[error(
        "line {line}: rule {rule:?}: double-star (**) syntax is not supported; a rule without \
         '/' (such as `*.bak`) already matches at every depth, so drop the `**/` part"
    )]
    DoubleStar {
        /// 1-based line number in `.helmignore`.
        line: usize,
        /// The rule as written (surrounding whitespace removed).
        rule: String,
    },
    /// The rule is not a valid Go `filepath.Match` pattern.
    #[error("line {line}: rule {rule:?} is not a valid pattern: {source}; fix or remove the rule")]
    BadPattern {
        /// 1-based line number in `.helmignore`.
        line: usize,
        /// The rule as written (surrounding whitespace removed).
        rule: String,
        /// What is wrong with the pattern.
        source: GlobError,
    },
}

/// A malformed glob pattern (Go's `filepath.ErrBadPattern`), with where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern at byte {offset}: {reason}")]
pub struct GlobError {
    /// Byte offset in the pattern where the problem was found.
    pub offset: usize,
    /// What is wrong, in words.
    pub reason: &'static str,
}

/// Where a rule is matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// No `/` in the rule: matched against the base name of the path.
    BaseName,
    /// A `/` inside the rule, or a leading `/` (stripped): matched against the whole path.
    WholePath,
}

#[derive(Clone, Debug)]
struct Rule {
    negate: bool,
    dir_only: bool,
    scope: Scope,
    /// `None` when the rule passes Helm's validation (done on the rule as written) but the
    /// pattern left after stripping `!` and `/` does not compile, e.g. `foo\/`: Helm then
    /// logs the problem on every match and treats the rule as matching nothing.
    glob: Option<Glob>,
}

impl Rule {
    /// Parses one trimmed, non-empty, non-comment rule the way Helm does.
    fn parse(rule: &str, line: usize) -> Result<Rule, IgnoreError> {
        if rule.contains("**") {
            return Err(IgnoreError::DoubleStar {
                line,
                rule: rule.to_owned(),
            });
        }
        // Helm validates the rule as written, `!` and trailing `/` included.
        Glob::compile(rule).map_err(|source| IgnoreError::BadPattern {
            line,
            rule: rule.to_owned(),
            source,
        })?;
        let (negate, rest) = match rule.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, rule),
        };
        let (dir_only, rest) = match rest.strip_suffix('/') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let (scope, pattern) = if let Some(anchored) = rest.strip_prefix('/') {
            (Scope::WholePath, anchored)
        } else if rest.contains('/') {
            (Scope::WholePath, rest)
        } else {
            (Scope::BaseName, rest)
        };
        Ok(Rule {
            negate,
            dir_only,
            scope,
            glob: Glob::compile(pattern).ok(),
        })
    }

    fn matches(&self, path: &str) -> bool {
        let Some(glob) = &self.glob else {
            return false;
        };
        match self.scope {
            Scope::WholePath => glob.matches(path),
            Scope::BaseName => glob.matches(go_base(path)),
        }
    }
}

impl HelmIgnore {
    /// Parses `.helmignore` text. Also used with `""` for a chart without the file.
    ///
    /// Each line is trimmed; blank lines and lines starting with `#` are skipped (there are
    /// no inline comments and no `\!` escape). A rule containing `**`, or one that is not a
    /// valid Go `filepath.Match` pattern, is an error naming its line.
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        let mut rules = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let rule = line.trim();
            if rule.is_empty() || rule.starts_with('#') {
                continue;
            }
            rules.push(Rule::parse(rule, index + 1)?);
        }
        Ok(HelmIgnore { rules })
    }

    /// Adds Helm's default rule [`DEFAULT_RULE`] (`templates/.?*`: hidden files in
    /// `templates/` are never loaded) after the file's own rules, as Helm always does when
    /// loading a chart directory.
    pub fn with_defaults(mut self) -> Self {
        let rule = Rule::parse(DEFAULT_RULE, 0).expect("the built-in default rule is valid");
        self.rules.push(rule);
        self
    }

    /// Whether `path` (relative to the chart root, `/`-separated, no leading `/`) is ignored.
    /// `is_dir` says whether it names a directory; an ignored directory is skipped whole.
    ///
    /// The empty path, `.` and `./` are never ignored. Otherwise the rules are tried in order:
    ///
    /// - a normal rule ignores the path when it matches (a directory-only rule, written with
    ///   a trailing `/`, is skipped for files);
    /// - a negated rule (`!pattern`) is Helm's oddity: when the path does **not** match it —
    ///   or when the rule is directory-only and the path is a file — the path is ignored
    ///   right away; when it matches, the next rule is tried.
    ///
    /// So a negated rule does not re-include anything: a `.helmignore` holding only `!foo`
    /// ignores every path except one named `foo`, and `*.txt` followed by `!keep.txt` still
    /// ignores `keep.txt` (the first rule decides). This is what Helm v3 and v4 do.
    pub fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for rule in &self.rules {
            if rule.negate {
                if rule.dir_only && !is_dir {
                    return true;
                }
                if !rule.matches(path) {
                    return true;
                }
                continue;
            }
            if rule.dir_only && !is_dir {
                continue;
            }
            if rule.matches(path) {
                return true;
            }
        }
        false
    }
}

/// Go's `path/filepath.Base` on Unix: the last element, trailing slashes removed; `.` for
/// the empty path and `/` for a path of slashes only.
fn go_base(path: &str) -> &str {
    if path.is_empty() {
        return ".";
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    match trimmed.rfind('/') {
        Some(slash) => &trimmed[slash + 1..],
        None => trimmed,
    }
}

/// Matches `name` against `pattern` with Go's `path/filepath.Match` semantics on Unix.
///
/// - `*` matches any run of characters other than `/`;
/// - `?` matches any one character other than `/`;
/// - `[class]` matches one character (`/` included) listed in the class: single characters
///   and ranges `a-z`; `[^class]` negates it; `-` and `]` must be escaped inside a class
///   (`[\-\]]`), and a class needs at least one member;
/// - `\c` matches `c` literally, inside a class too;
/// - anything else matches itself, and the pattern must match the whole name.
///
/// Errors: a malformed pattern (`[`, `[a-`, `[]`, `[-a]`, a trailing `\`…) is a
/// [`GlobError`]. Go reports some malformed patterns only when matching reaches them; this
/// function checks the whole pattern first, which is what Helm's own validation (matching
/// every rule against `"abc"` as it parses `.helmignore`) amounts to with current Go.
///
/// Like Go, matching works on bytes: after a `*`, Go may resume matching in the middle of
/// a multi-byte character, where each stray byte counts as one character for `?` and
/// classes. This function does the same (so `*??` matches the one-character `€`, as in Go).
pub fn go_glob_match(pattern: &str, name: &str) -> Result<bool, GlobError> {
    Ok(Glob::compile(pattern)?.matches(name))
}

/// One element of a chunk: it consumes exactly one character of the name.
#[derive(Clone, Debug)]
enum Atom {
    /// A literal character (compared by its UTF-8 bytes).
    Literal(char),
    /// `?`: any one character except `/`.
    AnyButSlash,
    /// `[...]` or `[^...]`: inclusive ranges (a single character is a range of one).
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A run of atoms, optionally preceded by one or more `*`.
#[derive(Clone, Debug)]
struct Chunk {
    star: bool,
    atoms: Vec<Atom>,
}

/// A compiled Go glob pattern.
#[derive(Clone, Debug)]
struct Glob {
    chunks: Vec<Chunk>,
}

impl Glob {
    /// Compiles `pattern`, checking all of its syntax.
    fn compile(pattern: &str) -> Result<Glob, GlobError> {
        let chars: Vec<(usize, char)> = pattern.char_indices().collect();
        let mut parser = Parser {
            chars: &chars,
            end: pattern.len(),
            pos: 0,
        };
        let mut chunks = Vec::new();
        while !parser.at_end() {
            let mut star = false;
            while parser.eat('*') {
                star = true;
            }
            let mut atoms = Vec::new();
            while let Some(c) = parser.peek() {
                match c {
                    '*' => break,
                    '?' => {
                        parser.pos += 1;
                        atoms.push(Atom::AnyButSlash);
                    }
                    '[' => atoms.push(parser.class()?),
                    '\\' => {
                        let offset = parser.offset();
                        parser.pos += 1;
                        let Some(escaped) = parser.peek() else {
                            return Err(GlobError {
                                offset,
                                reason: "a trailing `\\` escapes nothing (write `\\\\` for a backslash)",
                            });
                        };
                        parser.pos += 1;
                        atoms.push(Atom::Literal(escaped));
                    }
                    other => {
                        parser.pos += 1;
                        atoms.push(Atom::Literal(other));
                    }
                }
            }
            chunks.push(Chunk { star, atoms });
        }
        Ok(Glob { chunks })
    }

    /// Go's matching algorithm: each chunk after a `*` is matched at the first position
    /// where it fits (the star never skipping a `/`), except that the last chunk must also
    /// reach the end of the name.
    fn matches(&self, name: &str) -> bool {
        let mut rest = name.as_bytes();
        let last = self.chunks.len().saturating_sub(1);
        'chunks: for (index, chunk) in self.chunks.iter().enumerate() {
            let is_last = index == last;
            if chunk.star && chunk.atoms.is_empty() {
                // A trailing star takes the rest of the name, unless it holds a `/`.
                return !rest.contains(&b'/');
            }
            if let Some(after) = chunk.match_prefix(rest)
                && (after.is_empty() || !is_last)
            {
                rest = after;
                continue;
            }
            if chunk.star {
                let mut skip = 0;
                while skip < rest.len() && rest[skip] != b'/' {
                    if let Some(after) = chunk.match_prefix(&rest[skip + 1..])
                        && (!is_last || after.is_empty())
                    {
                        rest = after;
                        continue 'chunks;
                    }
                    skip += 1;
                }
            }
            return false;
        }
        rest.is_empty()
    }
}

impl Chunk {
    /// Matches the atoms at the start of `s`; returns what follows.
    fn match_prefix<'s>(&self, mut s: &'s [u8]) -> Option<&'s [u8]> {
        for atom in &self.atoms {
            match atom {
                Atom::Literal(c) => {
                    let mut buf = [0u8; 4];
                    let bytes = c.encode_utf8(&mut buf).as_bytes();
                    s = s.strip_prefix(bytes)?;
                }
                Atom::AnyButSlash => {
                    if s.first() == Some(&b'/') {
                        return None;
                    }
                    let (_, width) = decode_rune(s)?;
                    s = &s[width..];
                }
                Atom::Class { negated, ranges } => {
                    let (c, width) = decode_rune(s)?;
                    let listed = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                    if listed == *negated {
                        return None;
                    }
                    s = &s[width..];
                }
            }
        }
        Some(s)
    }
}

/// Decodes the first character of `s` as Go does: an invalid byte is U+FFFD, one byte wide.
fn decode_rune(s: &[u8]) -> Option<(char, usize)> {
    let first = s.utf8_chunks().next()?;
    match first.valid().chars().next() {
        Some(c) => Some((c, c.len_utf8())),
        None => Some((char::REPLACEMENT_CHARACTER, 1)),
    }
}

/// A cursor over the characters of a pattern.
struct Parser<'a> {
    chars: &'a [(usize, char)],
    /// The pattern's length in bytes, for offsets at the end.
    end: usize,
    pos: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    fn offset(&self) -> usize {
        self.chars
            .get(self.pos)
            .map_or(self.end, |&(offset, _)| offset)
    }

    fn eat(&mut self, want: char) -> bool {
        if self.peek() == Some(want) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Parses a character class; the cursor is on its `[`.
    fn class(&mut self) -> Result<Atom, GlobError> {
        let open = self.offset();
        let unclosed = GlobError {
            offset: open,
            reason: "`[` is never closed by `]` (write `\\[` for a literal bracket)",
        };
        self.pos += 1;
        if self.at_end() {
            return Err(unclosed);
        }
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        loop {
            if !ranges.is_empty() && self.eat(']') {
                break;
            }
            let lo = self.class_char(&unclosed)?;
            let mut hi = lo;
            if self.eat('-') {
                hi = self.class_char(&unclosed)?;
            }
            ranges.push((lo, hi));
        }
        Ok(Atom::Class { negated, ranges })
    }

    /// One class member character (`\`-escapes allowed); like Go, something must follow it.
    fn class_char(&mut self, unclosed: &GlobError) -> Result<char, GlobError> {
        let offset = self.offset();
        let c = match self.peek() {
            None => return Err(unclosed.clone()),
            Some('-') => {
                return Err(GlobError {
                    offset,
                    reason: "a `-` in a character class must sit between two characters \
                             (write `\\-` for a literal dash)",
                });
            }
            Some(']') => {
                return Err(GlobError {
                    offset,
                    reason: "a character class needs a character before `]` \
                             (write `\\]` for a literal bracket)",
                });
            }
            Some('\\') => {
                self.pos += 1;
                match self.peek() {
                    Some(escaped) => escaped,
                    None => return Err(unclosed.clone()),
                }
            }
            Some(c) => c,
        };
        self.pos += 1;
        if self.at_end() {
            return Err(unclosed.clone());
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Err(())` stands for Go's `ErrBadPattern`.
    const GLOB_CASES: &[(&str, &str, Result<bool, ()>)] = &[
        // Literals and whole-name matching.
        ("abc", "abc", Ok(true)),
        ("abc", "abcd", Ok(false)),
        ("abc", "ab", Ok(false)),
        ("", "", Ok(true)),
        ("", "a", Ok(false)),
        ("a/b", "a/b", Ok(true)),
        // `*`.
        ("*", "abc", Ok(true)),
        ("*", "", Ok(true)),
        ("*", "a/b", Ok(false)),
        ("*c", "abc", Ok(true)),
        ("a*", "a", Ok(true)),
        ("a*", "abc", Ok(true)),
        ("a*", "ab/c", Ok(false)),
        ("a*/b", "abc/b", Ok(true)),
        ("a*/b", "a/c/b", Ok(false)),
        ("*/*", "a/b", Ok(true)),
        ("*/*", "a/b/c", Ok(false)),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
        ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
        ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
        ("*x", "xxx", Ok(true)),
        ("**x", "axx", Ok(true)),
        ("*.yaml", "values.yaml", Ok(true)),
        ("*.yaml", "values.yml", Ok(false)),
        ("*.yaml", ".yaml", Ok(true)),
        ("templates/*.tpl", "templates/_helpers.tpl", Ok(true)),
        ("templates/*.tpl", "templates/sub/_helpers.tpl", Ok(false)),
        // `?`.
        ("a?c", "abc", Ok(true)),
        ("a?c", "ac", Ok(false)),
        ("a?b", "a/b", Ok(false)),
        ("a?b", "a☺b", Ok(true)),
        ("a???b", "a☺b", Ok(false)),
        (".?*", ".", Ok(false)),
        (".?*", ".a", Ok(true)),
        // Character classes, ranges and negation.
        ("ab[c]", "abc", Ok(true)),
        ("ab[b-d]", "abc", Ok(true)),
        ("ab[e-g]", "abc", Ok(false)),
        ("ab[^c]", "abc", Ok(false)),
        ("ab[^b-d]", "abc", Ok(false)),
        ("ab[^e-g]", "abc", Ok(true)),
        ("[a-cx-z]", "y", Ok(true)),
        ("[a-cx-z]", "m", Ok(false)),
        ("[!a]", "!", Ok(true)),
        ("[!a]", "b", Ok(false)),
        ("a[^a]b", "a☺b", Ok(true)),
        ("a[^a][^a][^a]b", "a☺b", Ok(false)),
        ("[a-ζ]*", "α", Ok(true)),
        ("*[a-ζ]", "A", Ok(false)),
        ("[z-a]", "m", Ok(false)),
        ("a[/]b", "a/b", Ok(true)),
        ("a[^x]b", "a/b", Ok(true)),
        ("[*]", "*", Ok(true)),
        ("[*]", "a", Ok(false)),
        ("[[]", "[", Ok(true)),
        ("[^]a]", "b", Err(())),
        // Escapes.
        ("a\\*b", "a*b", Ok(true)),
        ("a\\*b", "ab", Ok(false)),
        ("a\\*b", "axb", Ok(false)),
        ("\\?", "?", Ok(true)),
        ("\\?", "a", Ok(false)),
        ("\\[", "[", Ok(true)),
        ("\\a", "a", Ok(true)),
        ("\\\\", "\\", Ok(true)),
        ("[\\]a]", "]", Ok(true)),
        ("[\\-]", "-", Ok(true)),
        ("[x\\-]", "x", Ok(true)),
        ("[x\\-]", "-", Ok(true)),
        ("[x\\-]", "z", Ok(false)),
        ("[\\-x]", "-", Ok(true)),
        ("[\\-x]", "a", Ok(false)),
        // Go's byte-wise resumption after `*` inside a multi-byte character.
        ("*??", "€", Ok(true)),
        ("*???", "€", Ok(false)),
        ("*?", "€", Ok(true)),
        // Bad patterns.
        ("[", "a", Err(())),
        ("[^", "a", Err(())),
        ("[^bc", "a", Err(())),
        ("a[", "a", Err(())),
        ("a[", "ab", Err(())),
        ("a[", "x", Err(())),
        ("a/b[", "x", Err(())),
        ("[]", "a", Err(())),
        ("[]a]", "]", Err(())),
        ("[-]", "-", Err(())),
        ("[x-]", "x", Err(())),
        ("[-x]", "x", Err(())),
        ("[a-", "a", Err(())),
        ("[a-b-c]", "a", Err(())),
        ("[a\\", "a", Err(())),
        ("\\", "a", Err(())),
        ("abc\\", "abc", Err(())),
        ("*[", "abc", Err(())),
        ("abc*[", "abc", Err(())),
        ("x*[a-", "abc", Err(())),
    ];

    #[test]
    fn go_glob_match_table() {
        assert!(GLOB_CASES.len() >= 40);
        for &(pattern, name, want) in GLOB_CASES {
            let got = go_glob_match(pattern, name).map_err(|_| ());
            assert_eq!(got, want, "go_glob_match({pattern:?}, {name:?})");
        }
    }

    /// Plain backtracking over characters, as a reference for ASCII names.
    fn backtrack(tokens: &[Option<&Atom>], name: &[u8]) -> bool {
        match tokens.split_first() {
            None => name.is_empty(),
            Some((None, rest)) => (0..=name.len())
                .take_while(|&n| !name[..n].contains(&b'/'))
                .any(|n| backtrack(rest, &name[n..])),
            Some((Some(atom), rest)) => {
                let chunk = Chunk {
                    star: false,
                    atoms: vec![(*atom).clone()],
                };
                chunk
                    .match_prefix(name)
                    .is_some_and(|after| backtrack(rest, after))
            }
        }
    }

    fn all_strings(alphabet: &[char], max_len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max_len {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn glob_agrees_with_backtracking_and_never_panics() {
        let patterns = all_strings(&['a', 'b', '/', '*', '?', '[', ']', '-', '^', '\\'], 4);
        let ascii_names = all_strings(&['a', 'b', '/', '-'], 4);
        let other_names = ["é", "aé", "é/", "€a", "\u{FFFD}"];
        let mut valid = 0;
        for pattern in &patterns {
            let Ok(glob) = Glob::compile(pattern) else {
                for name in &ascii_names {
                    assert!(go_glob_match(pattern, name).is_err());
                }
                continue;
            };
            valid += 1;
            let tokens: Vec<Option<&Atom>> = glob
                .chunks
                .iter()
                .flat_map(|c| {
                    c.star
                        .then_some(None)
                        .into_iter()
                        .chain(c.atoms.iter().map(Some))
                })
                .collect();
            for name in &ascii_names {
                assert_eq!(
                    glob.matches(name),
                    backtrack(&tokens, name.as_bytes()),
                    "pattern {pattern:?}, name {name:?}"
                );
            }
            for name in other_names {
                let _ = glob.matches(name);
            }
        }
        assert!(valid > 1000, "{valid}");
    }

    #[test]
    fn glob_error_says_where_and_why() {
        let err = go_glob_match("ab[cd", "x").unwrap_err();
        assert_eq!(err.offset, 2);
        assert!(err.to_string().contains("never closed"), "{err}");
        let err = go_glob_match("a\\", "x").unwrap_err();
        assert_eq!(err.offset, 1);
        assert!(err.to_string().contains("trailing"), "{err}");
        let err = go_glob_match("x[]", "x").unwrap_err();
        assert_eq!(err.offset, 2);
        let err = go_glob_match("[-a]", "x").unwrap_err();
        assert!(err.to_string().contains("`-`"), "{err}");
    }

    #[test]
    fn go_base_matches_go() {
        assert_eq!(go_base(""), ".");
        assert_eq!(go_base("/"), "/");
        assert_eq!(go_base("///"), "/");
        assert_eq!(go_base("a"), "a");
        assert_eq!(go_base("a/b"), "b");
        assert_eq!(go_base("a/b/"), "b");
        assert_eq!(go_base("a/b//"), "b");
    }

    /// (`.helmignore` text, path, is_dir, ignored?)
    const IGNORE_CASES: &[(&str, &str, bool, bool)] = &[
        // No rules.
        ("", "Chart.yaml", false, false),
        ("", "templates", true, false),
        // Base-name rules match at every depth.
        ("*.bak", "a.bak", false, true),
        ("*.bak", "templates/deep/a.bak", false, true),
        ("*.bak", "a.bak.txt", false, false),
        ("secret", "secret", true, true),
        ("secret", "files/secret", false, true),
        ("secret", "secrets", false, false),
        ("*", "anything/at/all", false, true),
        (".*", ".git", true, true),
        (".*", "templates/.hidden", false, true),
        ("tmp?", "tmp1", false, true),
        ("[Rr]EADME.md", "README.md", false, true),
        ("[Rr]EADME.md", "readme.md", false, false),
        // Rules with a `/` match the whole relative path; `*` does not cross `/`.
        ("templates/*.tpl", "templates/_helpers.tpl", false, true),
        (
            "templates/*.tpl",
            "templates/sub/_helpers.tpl",
            false,
            false,
        ),
        ("templates/*.tpl", "_helpers.tpl", false, false),
        ("templates/*.tpl", "other/templates/a.tpl", false, false),
        ("files/*/*.txt", "files/a/b.txt", false, true),
        ("files/*/*.txt", "files/a/b/c.txt", false, false),
        // A leading `/` anchors at the chart root (the path is matched whole anyway).
        ("/values.yaml", "values.yaml", false, true),
        ("/values.yaml", "sub/values.yaml", false, false),
        ("/ci", "ci", true, true),
        ("/ci", "charts/ci", true, false),
        ("/templates/*.txt", "templates/a.txt", false, true),
        // A trailing `/` is for directories only.
        ("ci/", "ci", true, true),
        ("ci/", "ci", false, false),
        ("ci/", "a/ci", true, true),
        ("/ci/", "ci", true, true),
        ("templates/tests/", "templates/tests", true, true),
        ("templates/tests/", "templates/tests", false, false),
        // Negation is Helm's oddity: a non-matching path is ignored outright.
        ("!keep.txt", "keep.txt", false, false),
        ("!keep.txt", "other.txt", false, true),
        ("!keep.txt", "templates", true, true),
        ("*.txt\n!keep.txt", "keep.txt", false, true),
        ("!keep.txt\n*.txt", "keep.txt", false, true),
        ("!keep.txt\n*.yaml", "keep.txt", false, false),
        ("!dir/", "dir", true, false),
        ("!dir/", "dir", false, true),
        ("!dir/", "other", true, true),
        // Comments, blank lines and whitespace.
        ("# *.yaml", "values.yaml", false, false),
        ("  # comment\n\n   \n", "values.yaml", false, false),
        ("  *.yaml  ", "values.yaml", false, true),
        ("\t*.yaml\r\n", "values.yaml", false, true),
        ("*.yaml # not a comment", "values.yaml", false, false),
        (
            "*.yaml # not a comment",
            "values.yaml # not a comment",
            false,
            true,
        ),
        ("\\#x", "#x", false, true),
        // The paths Helm never ignores.
        ("*", "", false, false),
        ("*", ".", true, false),
        ("*", "./", true, false),
        ("!x", ".", true, false),
        // Escaped trailing `/`: valid as written, but `foo\` (what is left) never matches.
        ("foo\\/", "foo", true, false),
        ("foo\\/", "foo\\", true, false),
        // A lone `/` rule matches nothing.
        ("/", "a", true, false),
    ];

    #[test]
    fn is_ignored_table() {
        assert!(IGNORE_CASES.len() >= 30);
        for &(text, path, is_dir, want) in IGNORE_CASES {
            let rules = HelmIgnore::parse(text).unwrap();
            assert_eq!(
                rules.is_ignored(path, is_dir),
                want,
                "rules {text:?}, path {path:?}, is_dir {is_dir}"
            );
        }
    }

    #[test]
    fn default_rule_hides_dotfiles_in_templates_only() {
        let rules = HelmIgnore::parse("").unwrap().with_defaults();
        assert!(rules.is_ignored("templates/.hidden", false));
        assert!(rules.is_ignored("templates/.git", true));
        assert!(!rules.is_ignored("templates/x.yaml", false));
        assert!(!rules.is_ignored("templates", true));
        assert!(!rules.is_ignored(".helmignore", false));
        assert!(!rules.is_ignored("templates/.", false));
        assert!(!rules.is_ignored("templates/sub/.hidden", false));
        assert!(!rules.is_ignored("files/.hidden", false));
    }

    #[test]
    fn default_rule_comes_after_the_files_rules() {
        // Helm appends the default: a lone negated rule decides before it is reached.
        let rules = HelmIgnore::parse("!templates").unwrap().with_defaults();
        assert!(!rules.is_ignored("templates", true));
        assert!(rules.is_ignored("templates/x.yaml", false));
        let rules = HelmIgnore::parse("*.md").unwrap().with_defaults();
        assert!(rules.is_ignored("README.md", false));
        assert!(rules.is_ignored("templates/.x.yaml", false));
        assert!(!rules.is_ignored("templates/x.yaml", false));
    }

    #[test]
    fn lone_negation_ignores_everything_else() {
        let rules = HelmIgnore::parse("# keep only the chart file\n!Chart.yaml\n").unwrap();
        assert!(!rules.is_ignored("Chart.yaml", false));
        assert!(!rules.is_ignored("sub/Chart.yaml", false));
        assert!(rules.is_ignored("values.yaml", false));
        assert!(rules.is_ignored("templates", true));
    }

    #[test]
    fn double_star_is_refused_with_its_line() {
        let err = HelmIgnore::parse("# comment\n*.bak\n\n  **/*.tmp  \n").unwrap_err();
        match &err {
            IgnoreError::DoubleStar { line, rule } => {
                assert_eq!(*line, 4);
                assert_eq!(rule, "**/*.tmp");
            }
            other => panic!("unexpected error {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.starts_with("line 4: rule \"**/*.tmp\""),
            "{message}"
        );
        assert!(
            message.contains("double-star (**) syntax is not supported"),
            "{message}"
        );
        // Negated too; but escaped stars are no `**` to Helm.
        assert!(HelmIgnore::parse("!a/**").is_err());
        let rules = HelmIgnore::parse("a\\*\\*").unwrap();
        assert!(rules.is_ignored("a**", false));
        assert!(!rules.is_ignored("abc", false));
    }

    #[test]
    fn bad_pattern_is_refused_with_its_line() {
        let err = HelmIgnore::parse("ok.txt\nfoo[bar\n").unwrap_err();
        match &err {
            IgnoreError::BadPattern { line, rule, source } => {
                assert_eq!(*line, 2);
                assert_eq!(rule, "foo[bar");
                assert_eq!(source.offset, 3);
            }
            other => panic!("unexpected error {other:?}"),
        }
        let message = err.to_string();
        assert!(message.starts_with("line 2: rule \"foo[bar\""), "{message}");
        assert!(message.contains("fix or remove the rule"), "{message}");
        assert!(std::error::Error::source(&err).is_some());
        for bad in ["[", "x\\", "[]", "![a-", "/[^", "dir/[-x]/"] {
            assert!(
                matches!(HelmIgnore::parse(bad), Err(IgnoreError::BadPattern { .. })),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn comment_only_when_hash_comes_first() {
        let rules = HelmIgnore::parse("   #values.yaml\nvalues.yaml#").unwrap();
        assert!(!rules.is_ignored("values.yaml", false));
        assert!(rules.is_ignored("values.yaml#", false));
    }

    #[test]
    fn empty_text_ignores_nothing() {
        let rules = HelmIgnore::parse("").unwrap();
        assert!(!rules.is_ignored("templates/.hidden", false));
        assert!(!HelmIgnore::default().is_ignored("a", false));
    }
}

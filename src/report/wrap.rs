//! Wrapping for the terminal table: text wraps at spaces (textwrap), headings and
//! summaries between their ` · ` parts, and a name longer than a line (a Terraform
//! address, a path) after its `.`, `/`, `_` or `-` rather than at any column.

use textwrap::WordSeparator;
use textwrap::core::{Word, display_width};
use textwrap::wrap_algorithms::wrap_first_fit;

/// What joins the parts of a heading or summary.
const SEPARATOR: &str = " · ";

/// `text` in lines of at most `width` columns (at least one line; a word wider
/// than one column cannot be split further and overflows a narrower width).
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    text.split('\n')
        .flat_map(|paragraph| wrap_paragraph(paragraph, width))
        .collect()
}

fn wrap_paragraph(text: &str, width: usize) -> Vec<String> {
    let words: Vec<Word> = WordSeparator::AsciiSpace
        .find_words(text)
        .flat_map(|word| fitted(word, width))
        .collect();
    let lines: Vec<String> = wrap_first_fit(&words, &[width as f64])
        .into_iter()
        .map(joined)
        .collect();
    match lines.is_empty() {
        true => vec![String::new()],
        false => lines,
    }
}

/// A word as pieces no wider than a line: whole when it fits, else split after
/// each `.`, `/`, `_` or `-` (the pieces then fill lines as words would), and
/// only what is still too wide at the line's width.
fn fitted(word: Word<'_>, width: usize) -> Vec<Word<'_>> {
    if word.width <= width {
        return vec![word];
    }
    name_pieces(word)
        .into_iter()
        .flat_map(|piece| piece.break_apart(width).collect::<Vec<_>>())
        .collect()
}

/// `module.net.aws_sg` as `module.`, `net.`, `aws_`, `sg`: glued together (no
/// space between them) unless a line ends between two.
fn name_pieces(word: Word<'_>) -> Vec<Word<'_>> {
    let mut pieces: Vec<Word> = word
        .word
        .split_inclusive(['.', '/', '_', '-'])
        .map(|piece| Word {
            word: piece,
            width: display_width(piece),
            whitespace: "",
            penalty: "",
        })
        .collect();
    if let Some(last) = pieces.last_mut() {
        last.whitespace = word.whitespace;
        last.penalty = word.penalty;
    }
    pieces
}

/// One line's words as text: each with its trailing space but the last.
fn joined(words: &[Word<'_>]) -> String {
    let mut line = String::new();
    for (i, word) in words.iter().enumerate() {
        line.push_str(word.word);
        match i + 1 == words.len() {
            true => line.push_str(word.penalty),
            false => line.push_str(word.whitespace),
        }
    }
    line
}

/// `parts` joined by ` · `, as many to a line as fit in `width`. A line that more
/// parts follow ends in ` ·`; a part wider than a line wraps on its own.
pub(super) fn join_parts(parts: &[String], width: usize) -> Vec<String> {
    let trailer = SEPARATOR.trim_end();
    let mut lines = Vec::new();
    let mut line = String::new();
    for (i, part) in parts.iter().enumerate() {
        // Room for the ` ·` that ends the line, should the next part not fit.
        let room = match i + 1 == parts.len() {
            true => width,
            false => width.saturating_sub(display_width(trailer)),
        };
        let longer = match line.is_empty() {
            true => part.clone(),
            false => format!("{line}{SEPARATOR}{part}"),
        };
        if display_width(&longer) <= room {
            line = longer;
            continue;
        }
        if !line.is_empty() {
            lines.push(format!("{line}{trailer}"));
        }
        let mut wrapped = wrap(part, room);
        line = wrapped.pop().unwrap_or_default();
        lines.extend(wrapped);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn words_wrap_at_spaces() {
        assert_eq!(
            wrap("was added outside IaC; no source declares it", 20),
            ["was added outside", "IaC; no source", "declares it"]
        );
    }

    #[test]
    fn a_name_longer_than_a_line_breaks_after_its_punctuation() {
        assert_eq!(
            wrap(
                "owner: module.net.aws_vpc_security_group_egress_rule.alb (a.tfstate)",
                30
            ),
            [
                "owner: module.net.aws_vpc_",
                "security_group_egress_rule.alb",
                "(a.tfstate)"
            ]
        );
    }

    #[test]
    fn a_name_that_fits_a_line_is_never_split() {
        assert_eq!(
            wrap("managed by module.net.aws_security_group.this", 40),
            ["managed by", "module.net.aws_security_group.this"]
        );
    }

    #[test]
    fn what_has_no_punctuation_breaks_at_the_width() {
        assert_eq!(wrap("0123456789abcdef", 6), ["012345", "6789ab", "cdef"]);
    }

    #[test]
    fn any_width_ends_and_keeps_every_character() {
        let text = "ecs-front (sg-0a1b2c3d4e5f60002): ingress tcp 9100 → x";
        for width in 0..12 {
            let lines = wrap(text, width);
            assert_eq!(
                lines.concat().replace(' ', ""),
                text.replace(' ', ""),
                "{width}"
            );
        }
        assert_eq!(wrap("", 10), [""]);
    }

    #[test]
    fn parts_share_a_line_while_they_fit() {
        let heading = parts(&["alb-public (sg-1)", "vpc-0c0ffee", "123456789012/us-east-1"]);
        assert_eq!(
            join_parts(&heading, 80),
            ["alb-public (sg-1) · vpc-0c0ffee · 123456789012/us-east-1"]
        );
        assert_eq!(
            join_parts(&heading, 40),
            [
                "alb-public (sg-1) · vpc-0c0ffee ·",
                "123456789012/us-east-1"
            ]
        );
    }

    #[test]
    fn a_part_wider_than_a_line_wraps_and_the_next_follows_it() {
        assert_eq!(
            join_parts(&parts(&["compared 5 of 5 managed groups", "in a/b"]), 20),
            ["compared 5 of 5", "managed groups ·", "in a/b"]
        );
    }
}

//! The cell canvas behind [`super::render_lines`]: line cells hold a bitset of the
//! directions they connect, turned into a glyph only when the canvas is read out.
//! Writes outside the canvas are ignored.

use super::Charset;

pub(super) const UP: u8 = 1;
pub(super) const DOWN: u8 = 2;
pub(super) const LEFT: u8 = 4;
pub(super) const RIGHT: u8 = 8;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cell {
    Empty,
    Lines(u8),
    Arrow,
    Text(char),
}

pub(super) struct Canvas {
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) cells: Vec<Cell>,
}

impl Canvas {
    pub(super) fn new(width: usize, height: usize) -> Self {
        Canvas {
            width,
            height,
            cells: vec![Cell::Empty; width.saturating_mul(height)],
        }
    }

    pub(super) fn cell(&mut self, x: usize, y: usize) -> Option<&mut Cell> {
        if x < self.width && y < self.height {
            self.cells.get_mut(y * self.width + x)
        } else {
            None
        }
    }

    pub(super) fn line(&mut self, x: usize, y: usize, bits: u8) {
        match self.cell(x, y) {
            Some(c @ Cell::Empty) => *c = Cell::Lines(bits),
            Some(Cell::Lines(b)) => *b |= bits,
            _ => {}
        }
    }

    pub(super) fn put(&mut self, x: usize, y: usize, cell: Cell) {
        if let Some(c) = self.cell(x, y) {
            *c = cell;
        }
    }

    /// An orthogonal segment; a diagonal one is drawn as horizontal then vertical. Only
    /// the part inside the canvas is visited, so far-away points cost nothing.
    pub(super) fn segment(&mut self, (x1, y1): (usize, usize), (x2, y2): (usize, usize)) {
        let (lo, hi) = (x1.min(x2), x1.max(x2));
        for x in lo..=hi.min(self.width.saturating_sub(1)) {
            let left = if x > lo { LEFT } else { 0 };
            let right = if x < hi { RIGHT } else { 0 };
            self.line(x, y1, left | right);
        }
        let (top, bottom) = (y1.min(y2), y1.max(y2));
        for y in top..=bottom.min(self.height.saturating_sub(1)) {
            let up = if y > top { UP } else { 0 };
            let down = if y < bottom { DOWN } else { 0 };
            self.line(x2, y, up | down);
        }
    }
}

pub(super) fn line_glyph(bits: u8, charset: Charset) -> char {
    let ascii = charset == Charset::Ascii;
    let vertical = bits & (LEFT | RIGHT) == 0;
    let horizontal = bits & (UP | DOWN) == 0;
    match (ascii, vertical, horizontal) {
        (_, true, true) => ' ',
        (true, true, _) => '|',
        (true, _, true) => '-',
        (true, _, _) => '+',
        (false, true, _) => '│',
        (false, _, true) => '─',
        (false, _, _) => match bits {
            b if b == DOWN | RIGHT => '┌',
            b if b == DOWN | LEFT => '┐',
            b if b == UP | RIGHT => '└',
            b if b == UP | LEFT => '┘',
            b if b == UP | DOWN | RIGHT => '├',
            b if b == UP | DOWN | LEFT => '┤',
            b if b == DOWN | LEFT | RIGHT => '┬',
            b if b == UP | LEFT | RIGHT => '┴',
            _ => '┼',
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junctions_and_crossings() {
        let mut c = Canvas::new(3, 3);
        c.segment((0, 1), (2, 1));
        c.segment((1, 0), (1, 2));
        c.segment((2, 1), (2, 2));
        let glyph = |c: &mut Canvas, x, y, charset| match c.cell(x, y) {
            Some(Cell::Lines(bits)) => line_glyph(*bits, charset),
            _ => ' ',
        };
        let u = Charset::Unicode;
        assert_eq!(glyph(&mut c, 1, 1, u), '┼');
        assert_eq!(glyph(&mut c, 0, 1, u), '─');
        assert_eq!(glyph(&mut c, 2, 1, u), '┐');
        assert_eq!(glyph(&mut c, 1, 0, u), '│');
        assert_eq!(glyph(&mut c, 1, 1, Charset::Ascii), '+');
        assert_eq!(glyph(&mut c, 2, 1, Charset::Ascii), '+');
        assert_eq!(glyph(&mut c, 1, 2, Charset::Ascii), '|');
        assert_eq!(c.cell(3, 0), None);
        c.line(9, 9, UP);
        c.segment((0, 0), (usize::MAX, usize::MAX));
    }
}

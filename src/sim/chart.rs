//! SVG charts of fleet runs, written by hand (`cargo run --release --example fleet -- --svg DIR`).
//!
//! Two pictures, each a self-contained SVG with a `<title>`, a `<desc>`, labelled axes with
//! ticks and a legend:
//!
//! - [`calls_per_second`]: one panel per policy, the calls that reached Cognito each second
//!   (everything sent, and the part the quota admitted) against the quota line, on a shared
//!   logarithmic scale so a naive client's thousands and the shipped session's dozens both read.
//! - [`scaling`]: the makespan ratio and the calls per session of each policy against the fleet
//!   size N (logarithmic), with the physical limit (ratio 1) marked.
//!
//! Nothing here decides anything: it draws [`Report`]s. No chart library: the drawing needs are
//! a few lines, rectangles and labels, and a dependency would outweigh them.

use crate::sim::fleet::{PerSecond, Report};
use std::fmt::Write as _;

/// Colours for the baselines, distinguishable from each other and from the shipped policy's
/// black (a 12-colour set chosen for contrast on white).
const PALETTE: [&str; 12] = [
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#1aa3c4", "#f032e6", "#9a6324",
    "#808000", "#469990", "#000075", "#8c8c8c",
];
/// The shipped policy's colour.
const SHIPPED: &str = "#000000";
/// The quota line's colour.
const QUOTA: &str = "#d62728";
/// Admitted calls (filled) and every call sent (line) in [`calls_per_second`].
const ADMITTED: &str = "#9ecae1";
const SENT: &str = "#08519c";
const FONT: &str = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\"";

/// Escapes text for SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Tick values for a linear axis over `[0, max]`: multiples of 1, 2 or 5 × 10^k, four to eight of
/// them, the last at or above `max`.
pub fn linear_ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| max / s <= 8.0)
        .unwrap_or(10.0 * magnitude);
    let count = (max / step).ceil() as usize;
    // Rounded so that 3 × 0.2 prints as 0.6.
    (0..=count.max(1))
        .map(|i| (i as f64 * step * 1e6).round() / 1e6)
        .collect()
}

/// Powers of ten from 10^`low` to the first at or above `max`.
pub fn decade_ticks(low: i32, max: f64) -> Vec<f64> {
    let top = if max > 1.0 {
        max.log10().ceil() as i32
    } else {
        0
    };
    (low..=top.max(low + 1)).map(|e| 10f64.powi(e)).collect()
}

/// A tick label: `1k`, `10k`, `2.5`, `120`.
fn label(v: f64) -> String {
    if v >= 1_000.0 && (v / 1_000.0).fract() == 0.0 {
        format!("{}k", v / 1_000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').to_owned()
    }
}

/// An axis: maps data to a pixel range, linearly or by log10.
#[derive(Debug, Clone, Copy)]
struct Axis {
    low: f64,
    high: f64,
    log: bool,
    /// Pixels of `low` and `high`.
    from: f64,
    to: f64,
}

impl Axis {
    fn at(&self, v: f64) -> f64 {
        let (v, low, high) = if self.log {
            (v.max(self.low).log10(), self.low.log10(), self.high.log10())
        } else {
            (v, self.low, self.high)
        };
        let t = ((v - low) / (high - low)).clamp(0.0, 1.0);
        self.from + t * (self.to - self.from)
    }
}

/// A plot area with its two axes.
struct Frame {
    x: Axis,
    y: Axis,
}

impl Frame {
    /// Draws the frame's box, grid lines, tick labels and (if given) axis titles.
    fn draw(&self, out: &mut String, xs: &[f64], ys: &[f64], x_title: &str, y_title: &str) {
        let (left, right) = (self.x.from, self.x.to);
        let (bottom, top) = (self.y.from, self.y.to);
        for &v in ys {
            let y = self.y.at(v);
            let _ = write!(
                out,
                "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{right:.1}\" y2=\"{y:.1}\" stroke=\"#e5e5e5\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
                left - 5.0,
                y + 4.0,
                label(v)
            );
        }
        for &v in xs {
            let x = self.x.at(v);
            let _ = write!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{bottom:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#444\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
                bottom + 4.0,
                bottom + 16.0,
                label(v)
            );
        }
        let _ = write!(
            out,
            "<rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#444\"/>",
            right - left,
            bottom - top
        );
        if !x_title.is_empty() {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"12\">{}</text>",
                (left + right) / 2.0,
                bottom + 32.0,
                escape(x_title)
            );
        }
        if !y_title.is_empty() {
            let (cx, cy) = (left - 42.0, (top + bottom) / 2.0);
            let _ = write!(
                out,
                "<text x=\"{cx:.1}\" y=\"{cy:.1}\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 {cx:.1} {cy:.1})\">{}</text>",
                escape(y_title)
            );
        }
    }
}

fn open(out: &mut String, width: f64, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-labelledby=\"t d\" {FONT}>\n\
         <title id=\"t\">{}</title>\n<desc id=\"d\">{}</desc>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n\
         <text x=\"{:.1}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">{}</text>\n",
        escape(title),
        escape(desc),
        width / 2.0,
        escape(title)
    );
}

/// One legend entry at `(x, y)`: a swatch (a line, dashed if `dash`, or a filled box) and a label.
fn legend_entry(out: &mut String, x: f64, y: f64, colour: &str, kind: Swatch, text: &str) {
    match kind {
        Swatch::Line { width, dash } => {
            let _ = write!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"{width}\"{}/>",
                x + 22.0,
                if dash { " stroke-dasharray=\"6 4\"" } else { "" }
            );
        }
        Swatch::Box => {
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"22\" height=\"10\" fill=\"{colour}\"/>",
                y - 5.0
            );
        }
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
        x + 28.0,
        y + 4.0,
        escape(text)
    );
}

#[derive(Clone, Copy)]
enum Swatch {
    Line { width: f64, dash: bool },
    Box,
}

/// At most `bins` points from a per-second series: each the mean per second over its bin, with
/// the bin's width in seconds.
fn binned(series: &[PerSecond], bins: usize) -> (Vec<(f64, f64)>, usize) {
    let width = series.len().div_ceil(bins.max(1)).max(1);
    let points = series
        .chunks(width)
        .map(|chunk| {
            let n = chunk.len() as f64;
            let admitted = chunk.iter().map(|p| f64::from(p.admitted)).sum::<f64>() / n;
            let sent = chunk.iter().map(|p| f64::from(p.sent())).sum::<f64>() / n;
            (admitted, sent)
        })
        .collect();
    (points, width)
}

/// Refresh calls per second against the quota, one panel per report (the same scenario and N
/// under each policy), two panels a row, on shared axes.
pub fn calls_per_second(reports: &[&Report]) -> String {
    let Some(first) = reports.first() else {
        return String::new();
    };
    let quota = f64::from(first.quota_rps);
    let seconds = reports
        .iter()
        .map(|r| r.per_second.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let peak = reports
        .iter()
        .flat_map(|r| r.per_second.iter().map(|p| f64::from(p.sent())))
        .fold(quota, f64::max);
    let (cols, panel_w, panel_h) = (2usize, 400.0, 120.0);
    let (margin_l, gap_x, top0, gap_y) = (70.0, 90.0, 84.0, 70.0);
    let rows = reports.len().div_ceil(cols);
    let width = margin_l + cols as f64 * panel_w + (cols as f64 - 1.0) * gap_x + 30.0;
    let height = top0 + rows as f64 * (panel_h + gap_y) + 10.0;
    let title = format!(
        "Refresh calls per second in the {} (N = {}, quota {}/s)",
        first.scenario.name().replace('_', " "),
        first.sessions,
        first.quota_rps
    );
    let desc = format!(
        "One panel per policy: calls that reached Cognito each second (line) and those the quota \
         admitted (filled), on a logarithmic scale, against the quota of {} per second (dashed). \
         Seconds from the start of the run.",
        first.quota_rps
    );
    let mut out = String::new();
    open(&mut out, width, height, &title, &desc);
    // The legend, under the title.
    let ly = 48.0;
    legend_entry(
        &mut out,
        margin_l,
        ly,
        SENT,
        Swatch::Line {
            width: 1.5,
            dash: false,
        },
        "sent (admitted + throttled)",
    );
    legend_entry(
        &mut out,
        margin_l + 230.0,
        ly,
        ADMITTED,
        Swatch::Box,
        "admitted",
    );
    legend_entry(
        &mut out,
        margin_l + 350.0,
        ly,
        QUOTA,
        Swatch::Line {
            width: 1.5,
            dash: true,
        },
        &format!("quota ({}/s)", first.quota_rps),
    );
    let bin_note = if seconds > 400 {
        format!("; means over {} s", seconds.div_ceil(400))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#555\">log scale{}</text>",
        margin_l + 520.0,
        ly + 4.0,
        escape(&bin_note)
    );
    let x_ticks = linear_ticks(seconds as f64);
    let x_max = x_ticks.last().copied().unwrap_or(1.0);
    let y_ticks = decade_ticks(0, peak);
    let y_max = y_ticks.last().copied().unwrap_or(10.0);
    for (i, report) in reports.iter().enumerate() {
        let (col, row) = (i % cols, i / cols);
        let left = margin_l + col as f64 * (panel_w + gap_x);
        let top = top0 + row as f64 * (panel_h + gap_y);
        let frame = Frame {
            x: Axis {
                low: 0.0,
                high: x_max,
                log: false,
                from: left,
                to: left + panel_w,
            },
            y: Axis {
                low: 1.0,
                high: y_max,
                log: true,
                from: top + panel_h,
                to: top,
            },
        };
        let ratio = report
            .makespan_ratio()
            .map_or(String::from("never done"), |r| format!("{r:.2} × N/C"));
        let _ = write!(
            out,
            "<g><title>{}</title><text x=\"{left:.1}\" y=\"{:.1}\" font-size=\"13\"><tspan font-weight=\"bold\">{}</tspan>\
             <tspan fill=\"#333\" font-size=\"12\">  {:.2} calls/session, makespan {}</tspan></text>",
            escape(&report.policy),
            top - 8.0,
            escape(&report.policy),
            report.calls_per_session(),
            ratio
        );
        let x_title = if row + 1 == rows || i + cols >= reports.len() {
            "seconds"
        } else {
            ""
        };
        let y_title = if col == 0 { "calls / s" } else { "" };
        frame.draw(&mut out, &x_ticks, &y_ticks, x_title, y_title);
        let (points, width) = binned(&report.per_second, 400);
        // Admitted: a filled step area; sent: a step line over it.
        let base = frame.y.at(1.0);
        let mut area = format!("M{left:.1},{base:.1}");
        let mut line = String::new();
        for (k, (admitted, sent)) in points.iter().enumerate() {
            let x0 = frame.x.at((k * width) as f64);
            let x1 = frame.x.at(((k + 1) * width) as f64);
            let (ya, ys) = (frame.y.at(*admitted), frame.y.at(*sent));
            let _ = write!(area, "L{x0:.1},{ya:.1}L{x1:.1},{ya:.1}");
            let _ = write!(
                line,
                "{}{x0:.1},{ys:.1}L{x1:.1},{ys:.1}",
                if k == 0 { "M" } else { "L" }
            );
        }
        let end = frame.x.at((points.len() * width) as f64);
        let _ = write!(area, "L{end:.1},{base:.1}Z");
        let qy = frame.y.at(quota);
        let _ = writeln!(
            out,
            "<path d=\"{area}\" fill=\"{ADMITTED}\" stroke=\"none\"/>\
             <path d=\"{line}\" fill=\"none\" stroke=\"{SENT}\" stroke-width=\"1.2\"/>\
             <line x1=\"{left:.1}\" y1=\"{qy:.1}\" x2=\"{:.1}\" y2=\"{qy:.1}\" stroke=\"{QUOTA}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/></g>",
            left + panel_w
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The makespan ratio and the calls per session of each policy against N, from runs of one
/// scenario at several sizes. Policies keep the order of their first report; the shipped one
/// (`cognito-session`) is drawn thick and black.
pub fn scaling(reports: &[&Report]) -> String {
    let mut policies: Vec<&str> = Vec::new();
    for r in reports {
        if !policies.contains(&r.policy.as_str()) {
            policies.push(&r.policy);
        }
    }
    let mut sizes: Vec<usize> = reports.iter().map(|r| r.sessions).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let Some(first) = reports.first() else {
        return String::new();
    };
    let colour = |p: &str, i: usize| {
        if p == "cognito-session" {
            SHIPPED
        } else {
            PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#888")
        }
    };
    let (panel_w, panel_h, margin_l, gap_x, top) = (380.0, 300.0, 70.0, 90.0, 60.0);
    let legend_rows = (policies.len() + 1).div_ceil(3);
    let width = margin_l + 2.0 * panel_w + gap_x + 30.0;
    let height = top + panel_h + 60.0 + legend_rows as f64 * 18.0 + 10.0;
    let title = format!(
        "The {} against N (quota {}/s)",
        first.scenario.name().replace('_', " "),
        first.quota_rps
    );
    let desc = "Left: makespan over the physical limit N / C for each policy (1 is the limit). \
                Right: calls to Cognito per session, on a logarithmic scale. N on a logarithmic \
                scale. The shipped \
                policy, cognito-session, is the thick black line.";
    let mut out = String::new();
    open(&mut out, width, height, &title, desc);
    let n_low = sizes.first().copied().unwrap_or(1) as f64;
    let n_high = (sizes.last().copied().unwrap_or(10) as f64).max(n_low * 10.0);
    let x_ticks: Vec<f64> = decade_ticks(n_low.log10().floor() as i32, n_high)
        .into_iter()
        .filter(|v| *v >= n_low * 0.999 && *v <= n_high * 1.001)
        .collect();
    type Value = Box<dyn Fn(&Report) -> Option<f64>>;
    // Calls per session span two orders of magnitude between policies: a log scale.
    let panels: [(&str, &str, Value, bool); 2] = [
        (
            "makespan ratio",
            "makespan / (N / C)",
            Box::new(Report::makespan_ratio),
            false,
        ),
        (
            "calls per session (log scale)",
            "calls / N",
            Box::new(|r: &Report| Some(r.calls_per_session())),
            true,
        ),
    ];
    for (p, (name, y_title, value, log)) in panels.iter().enumerate() {
        let left = margin_l + p as f64 * (panel_w + gap_x);
        let peak = reports.iter().filter_map(|r| value(r)).fold(1.0, f64::max);
        let y_ticks = if *log {
            decade_ticks(0, peak)
        } else {
            linear_ticks(peak)
        };
        let frame = Frame {
            x: Axis {
                low: n_low,
                high: n_high,
                log: true,
                from: left,
                to: left + panel_w,
            },
            y: Axis {
                low: y_ticks.first().copied().unwrap_or(0.0),
                high: y_ticks.last().copied().unwrap_or(1.0),
                log: *log,
                from: top + panel_h,
                to: top,
            },
        };
        let _ = write!(
            out,
            "<text x=\"{left:.1}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\">{}</text>",
            top - 8.0,
            escape(name)
        );
        frame.draw(&mut out, &x_ticks, &y_ticks, "sessions N", y_title);
        if p == 0 {
            let y = frame.y.at(1.0);
            let _ = write!(
                out,
                "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{QUOTA}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>",
                left + panel_w,
            );
        }
        // The shipped policy last, on top.
        let mut order: Vec<usize> = (0..policies.len()).collect();
        order.sort_by_key(|i| policies.get(*i) == Some(&"cognito-session"));
        for i in order {
            let Some(policy) = policies.get(i) else {
                continue;
            };
            let c = colour(policy, i);
            let shipped = *policy == "cognito-session";
            let mut points: Vec<(f64, f64)> = reports
                .iter()
                .filter(|r| r.policy == *policy)
                .filter_map(|r| value(r).map(|v| (r.sessions as f64, v)))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let path: Vec<String> = points
                .iter()
                .map(|(n, v)| format!("{:.1},{:.1}", frame.x.at(*n), frame.y.at(*v)))
                .collect();
            let _ = write!(
                out,
                "<g><title>{}</title><polyline points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"{}\"/>",
                escape(policy),
                path.join(" "),
                if shipped { 3.5 } else { 1.5 }
            );
            for (n, v) in &points {
                let _ = write!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\" fill=\"{c}\"><title>{}: N = {}, {}</title></circle>",
                    frame.x.at(*n),
                    frame.y.at(*v),
                    if shipped { 4.5 } else { 3.0 },
                    escape(policy),
                    n,
                    label((v * 100.0).round() / 100.0)
                );
            }
            out.push_str("</g>\n");
        }
    }
    let ly = top + panel_h + 56.0;
    for (i, policy) in policies.iter().enumerate() {
        let (col, row) = (i % 3, i / 3);
        let shipped = *policy == "cognito-session";
        legend_entry(
            &mut out,
            margin_l + col as f64 * 270.0,
            ly + row as f64 * 18.0,
            colour(policy, i),
            Swatch::Line {
                width: if shipped { 3.5 } else { 1.5 },
                dash: false,
            },
            policy,
        );
    }
    let i = policies.len();
    legend_entry(
        &mut out,
        margin_l + (i % 3) as f64 * 270.0,
        ly + (i / 3) as f64 * 18.0,
        QUOTA,
        Swatch::Line {
            width: 1.5,
            dash: true,
        },
        "physical limit: makespan = N / C",
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_and_cover_the_maximum() {
        assert_eq!(linear_ticks(9.4), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(
            linear_ticks(320.0),
            vec![0.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 350.0]
        );
        assert_eq!(
            linear_ticks(1.28),
            vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4]
        );
        for max in [0.3, 1.0, 7.0, 21.0, 99.0, 1_234.0, 21_600.0] {
            let ticks = linear_ticks(max);
            assert!((4..=9).contains(&ticks.len()), "{max}: {ticks:?}");
            assert!(ticks.last().is_some_and(|t| *t >= max), "{max}: {ticks:?}");
        }
        assert_eq!(linear_ticks(0.0), linear_ticks(1.0));
    }

    #[test]
    fn decades_reach_past_the_peak() {
        assert_eq!(decade_ticks(0, 10_000.0), vec![1.0, 10.0, 100.0, 1e3, 1e4]);
        assert_eq!(decade_ticks(0, 120.5), vec![1.0, 10.0, 100.0, 1e3]);
        assert_eq!(decade_ticks(3, 100_000.0), vec![1e3, 1e4, 1e5]);
        assert_eq!(decade_ticks(0, 0.0), vec![1.0, 10.0]);
    }

    #[test]
    fn axes_map_the_ends_and_clamp_outside() {
        let log = Axis {
            low: 1.0,
            high: 1_000.0,
            log: true,
            from: 100.0,
            to: 0.0,
        };
        assert_eq!(log.at(1.0), 100.0);
        assert!((log.at(10.0) - 66.666).abs() < 0.01);
        assert_eq!(log.at(0.0), 100.0);
        assert_eq!(log.at(1e9), 0.0);
    }

    #[test]
    fn bins_average_per_second() {
        let series: Vec<PerSecond> = (0..10)
            .map(|i| PerSecond {
                admitted: i,
                throttled: 1,
            })
            .collect();
        let (points, width) = binned(&series, 4);
        assert_eq!(width, 3);
        assert_eq!(points.len(), 4);
        assert_eq!(points.first(), Some(&(1.0, 2.0)));
        assert_eq!(points.last(), Some(&(9.0, 10.0)));
        let (same, width) = binned(&series, 400);
        assert_eq!((same.len(), width), (10, 1));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(label(10_000.0), "10k");
        assert_eq!(label(1.5), "1.5");
        assert_eq!(label(120.0), "120");
    }
}

//! An independent reader of the two tracker texts, written from their description in
//! `shared/docs/tracker-formats.md` (not from nesmm's reader): it checks the layout rules the
//! strictest readers impose and plays the song into per-frame (note, velocity, timbre) triples.

#![allow(dead_code)]

use std::collections::HashMap;

pub type Triple = [(u8, u8, u8); 4];

const NAMES: [&str; 12] = [
    "C-", "C#", "D-", "D#", "E-", "F-", "F#", "G-", "G#", "A-", "A#", "B-",
];

fn hex2(s: &str) -> Result<usize, String> {
    if s.len() == 2
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
    {
        Ok(usize::from_str_radix(s, 16).unwrap())
    } else {
        Err(format!("'{s}' is not two upper-case hex digits"))
    }
}

/// Rows start at tick floor(2.5 k) of a note (speed 1, tempo 60, 60 Hz: doc 1.5).
fn tick(k: usize) -> usize {
    k * 5 / 2
}

fn macro_at(values: &[u8], t: usize) -> u8 {
    values[t.min(values.len() - 1)]
}

/// FamiTracker's volume: floor(m * c / 15), at least 1 when both are non-zero (doc 1.4).
fn volume(m: u8, c: u8) -> u8 {
    let v = m as u16 * c as u16 / 15;
    if v == 0 && m > 0 && c > 0 {
        1
    } else {
        v as u8
    }
}

/// Checks FamiTracker text against the doc's rules and plays it. Returns the frames and the loop.
pub fn read_famitracker(text: &str) -> Result<(Vec<Triple>, Option<usize>), String> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.first() != Some(&"# FamiTracker text export 0.4.2") {
        return Err("line 1 is not FamiStudio's required header".into());
    }
    let mut seen_comments = Vec::new();
    let mut macros: HashMap<(u8, i32), Vec<u8>> = HashMap::new();
    let mut insts: Insts = HashMap::new();
    let (mut rows, mut columns) = (0usize, Vec::<usize>::new());
    let mut orders: Vec<Vec<String>> = Vec::new();
    let mut patterns: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    let mut current: Option<String> = None;
    let mut last_command = String::new();
    for (i, line) in lines.iter().enumerate().skip(1) {
        let at = |w: String| format!("line {}: {w}: {line}", i + 1);
        if line.contains('\t') || line.ends_with(' ') {
            return Err(at("tab or trailing space".into()));
        }
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix("# ") {
            seen_comments.push(c.to_string());
            continue;
        }
        let (head, quoted) = match line.find('"') {
            Some(q) => (&line[..q], Some(&line[q..])),
            None => (*line, None),
        };
        if head.contains("  ") {
            return Err(at("double space between fields".into()));
        }
        let f: Vec<&str> = head.split(' ').filter(|s| !s.is_empty()).collect();
        if last_command == "TRACK" && f[0] != "COLUMNS" {
            return Err(at("COLUMNS must follow TRACK".into()));
        }
        last_command = f[0].to_string();
        match f[0] {
            "TITLE" | "AUTHOR" | "COPYRIGHT" | "COMMENT" => {
                let q = quoted.ok_or_else(|| at("string not quoted".into()))?;
                if !(q.len() >= 2
                    && q.ends_with('"')
                    && q[1..q.len() - 1].replace("\"\"", "").find('"').is_none())
                {
                    return Err(at("bad quoted string".into()));
                }
            }
            "MACHINE" | "FRAMERATE" | "EXPANSION" => {
                if f[1] != "0" {
                    return Err(at("not NTSC / default rate / no expansion".into()));
                }
            }
            "VIBRATO" | "SPLIT" => {}
            "MACRO" => {
                if f.len() < 8 || f[6] != ":" || f.len() - 7 > 253 {
                    return Err(at("MACRO layout".into()));
                }
                let kind: u8 = f[1].parse().map_err(|_| at("type".into()))?;
                let vals: Vec<u8> = f[7..]
                    .iter()
                    .map(|v| v.parse().map_err(|_| at("value".into())))
                    .collect::<Result<_, _>>()?;
                let hi = if kind == 0 { 15 } else { 3 };
                if !(kind == 0 || kind == 4)
                    || vals.iter().any(|&v| v > hi)
                    || f[3] != "-1"
                    || f[4] != "-1"
                {
                    return Err(at(
                        "only volume/duty macros without loop, values in range".into()
                    ));
                }
                macros.insert((kind, f[2].parse().unwrap()), vals);
            }
            "INST2A03" => {
                if f.len() != 7 || quoted.is_none() {
                    return Err(at("INST2A03 layout".into()));
                }
                let get = |kind: u8, s: &str| -> Result<Option<Vec<u8>>, String> {
                    let i: i32 = s.parse().map_err(|_| at("macro index".into()))?;
                    if i < 0 {
                        return Ok(None);
                    }
                    macros
                        .get(&(kind, i))
                        .cloned()
                        .map(Some)
                        .ok_or_else(|| at("macro not defined above".into()))
                };
                if f[3..6] != ["-1", "-1", "-1"] {
                    return Err(at("arpeggio/pitch macros".into()));
                }
                insts.insert(f[1].parse().unwrap(), (get(0, f[2])?, get(4, f[6])?));
            }
            "TRACK" => {
                if f.len() != 4 || rows != 0 || quoted.is_none() {
                    return Err(at("one TRACK with rows speed tempo name".into()));
                }
                rows = f[1].parse().unwrap();
                if f[2] != "1" || f[3] != "60" || !(1..=256).contains(&rows) {
                    return Err(at("not speed 1 tempo 60".into()));
                }
            }
            "COLUMNS" => {
                if f.len() != 7 || f[1] != ":" {
                    return Err(at("COLUMNS needs 5 channels".into()));
                }
                columns = f[2..].iter().map(|c| c.parse().unwrap()).collect();
                if columns.iter().any(|&c| !(1..=4).contains(&c)) {
                    return Err(at("effect columns out of 1..4".into()));
                }
            }
            "ORDER" => {
                if f.len() != 8 || f[2] != ":" || hex2(f[1])? != orders.len() {
                    return Err(at("ORDER layout".into()));
                }
                for p in &f[3..] {
                    hex2(p).map_err(at)?;
                }
                orders.push(f[3..].iter().map(|s| s.to_string()).collect());
            }
            "PATTERN" => {
                hex2(f[1]).map_err(at)?;
                current = Some(f[1].to_string());
                patterns.insert(f[1].to_string(), Vec::new());
            }
            "ROW" => {
                let p = current
                    .clone()
                    .ok_or_else(|| at("ROW outside PATTERN".into()))?;
                let body = patterns.get_mut(&p).unwrap();
                if line.get(4..6).map(hex2) != Some(Ok(body.len())) || &line[6..9] != " : " {
                    return Err(at("row number out of sequence".into()));
                }
                // Fixed offsets: each cell is "NNN II V" plus " EEE" per effect column.
                let mut pos = 9;
                let mut cells = Vec::new();
                for (ch, &cols) in columns.iter().enumerate() {
                    let width = 8 + 4 * cols;
                    let cell = line
                        .get(pos..pos + width)
                        .ok_or_else(|| at(format!("channel {ch} cut short")))?;
                    cells.push(cell.to_string());
                    pos += width;
                    let sep = if ch == 4 { "" } else { " : " };
                    if line.get(pos..pos + sep.len()) != Some(sep) {
                        return Err(at(format!(
                            "channel {ch} not followed by ' : ' at its offset"
                        )));
                    }
                    pos += sep.len();
                }
                if pos != line.len() {
                    return Err(at("more than 5 channels".into()));
                }
                body.push(cells);
                if body.len() > rows {
                    return Err(at("pattern past its length".into()));
                }
            }
            other => {
                return Err(at(format!(
                    "command '{other}' not written by FamiTracker 0.4.6"
                )))
            }
        }
    }
    for needed in [
        "Song information",
        "Global settings",
        "Macros",
        "DPCM samples",
        "Instruments",
        "Tracks",
        "End of export",
    ] {
        if !seen_comments.iter().any(|c| c == needed) {
            return Err(format!("comment line '# {needed}' missing"));
        }
    }
    if orders.is_empty() || orders.len() > 128 {
        return Err("1..128 frames needed".into());
    }
    for o in &orders {
        for p in o {
            if patterns.get(p).map(Vec::len) != Some(rows) {
                return Err(format!(
                    "pattern {p} is not spelled as in ORDER or not {rows} rows"
                ));
            }
        }
    }
    play(&orders, &patterns, &insts)
}

fn parse_note(ch: usize, s: &str) -> Result<Option<Option<u8>>, String> {
    Ok(match s {
        "..." => None,
        "---" => Some(None),
        _ if ch == 3 => {
            let d = s
                .strip_suffix("-#")
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .filter(|_| s.len() == 3);
            Some(Some(d.ok_or(format!("noise note {s}"))? + 1))
        }
        _ => {
            let idx = NAMES
                .iter()
                .position(|n| *n == &s[..2])
                .ok_or(format!("note {s}"))?;
            let oct: u8 = s[2..].parse().map_err(|_| format!("note {s}"))?;
            if oct > 7 {
                return Err(format!("note {s}"));
            }
            let n = oct * 12 + idx as u8;
            Some(Some(if ch == 2 { n + 12 } else { n + 24 }))
        }
    })
}

/// Per channel: type, patterns by name (their Note attributes), instances (time, pattern).
type FsChannel = (
    String,
    HashMap<String, Vec<HashMap<String, String>>>,
    Vec<(usize, String)>,
);

type Insts = HashMap<usize, (Option<Vec<u8>>, Option<Vec<u8>>)>;

fn play(
    orders: &[Vec<String>],
    patterns: &HashMap<String, Vec<Vec<String>>>,
    insts: &Insts,
) -> Result<(Vec<Triple>, Option<usize>), String> {
    // Per channel: note, instrument, volume column, Vxx duty, rows since the note.
    let mut st = [(None::<u8>, 0usize, 15u8, 0u8, 0usize); 4];
    let mut out = Vec::new();
    let mut starts = vec![None; orders.len()];
    let mut frame = 0;
    loop {
        if frame >= orders.len() {
            return Err("song runs past the last frame without Bxx/C00".into());
        }
        if let Some(s) = starts[frame] {
            return Ok((out, Some(s)));
        }
        starts[frame] = Some(out.len());
        let mut next = frame + 1;
        for r in 0.. {
            if r >= patterns[&orders[frame][0]].len() {
                break;
            }
            let mut row = [(0, 0, 0); 4];
            let mut flows = Vec::new();
            for ch in 0..5 {
                let cell = &patterns[&orders[frame][ch]][r][ch];
                let f: Vec<&str> = cell.split(' ').collect();
                for e in &f[3..] {
                    match e.as_bytes()[0] {
                        b'.' => {}
                        b'B' | b'C' | b'D' => flows.push(e.to_string()),
                        b'V' if ch < 4 && ch != 2 => st[ch].3 = hex2(&e[1..])? as u8,
                        _ => return Err(format!("effect {e} not expected")),
                    }
                }
                if ch == 4 {
                    if f[0] != "..." {
                        return Err("a DPCM note".into());
                    }
                    continue;
                }
                let s = &mut st[ch];
                if f[1] != ".." {
                    s.1 = hex2(f[1])?;
                }
                if let Some(n) = parse_note(ch, f[0])? {
                    s.0 = n;
                    s.4 = 0;
                }
                if f[2] != "." {
                    s.2 = u8::from_str_radix(f[2], 16).map_err(|_| format!("volume {}", f[2]))?;
                }
                if s.0.is_none() && ch != 2 {
                    row[ch] = (0, 0, s.3); // a rest keeps the Vxx duty
                }
                if let Some(n) = s.0 {
                    let (vol, duty) = insts.get(&s.1).ok_or("undefined instrument")?;
                    let t = tick(s.4);
                    let m = vol.as_ref().map_or(15, |v| macro_at(v, t));
                    let d = duty.as_ref().map_or(s.3, |v| macro_at(v, t));
                    row[ch] = match ch {
                        2 => (n, 0, 0),
                        _ => (n, volume(m, s.2), d),
                    };
                    s.4 += 1;
                }
            }
            out.push(row);
            if !flows.is_empty() {
                if flows.len() != 5 || flows.iter().any(|f| *f != flows[0]) {
                    return Err(format!("flow effect not in every channel: {flows:?}"));
                }
                match &flows[0][..1] {
                    "B" => next = hex2(&flows[0][1..])?,
                    "C" => return Ok((out, None)),
                    _ => {}
                }
                break;
            }
        }
        frame = next;
    }
}

/// Checks FamiStudio text against the doc's grammar (2.1-2.3) and plays its notes (pitches
/// only, FamiTracker tempo mode: Time and Duration in rows). Returns per-frame notes.
pub fn read_famistudio(text: &str) -> Result<(Vec<[u8; 4]>, Option<usize>), String> {
    let depth_of = |name: &str| match name {
        "Project" => Some(0),
        "Instrument" | "Song" => Some(1),
        "Envelope" | "Channel" | "PatternCustomSettings" => Some(2),
        "Pattern" | "PatternInstance" => Some(3),
        "Note" => Some(4),
        _ => None,
    };
    let mut instruments = Vec::new();
    let (mut length, mut loop_point, mut pattern_length) = (0usize, -1i64, 0usize);
    let mut custom: HashMap<usize, usize> = HashMap::new();
    let mut channels: Vec<FsChannel> = Vec::new();
    let mut pattern = String::new();
    for (i, line) in text.lines().enumerate() {
        let at = |w: &str| format!("line {}: {w}: {line}", i + 1);
        let tabs = line.len() - line.trim_start_matches('\t').len();
        let rest = &line[tabs..];
        let (name, mut attrs_text) = rest.split_once(' ').unwrap_or((rest, ""));
        if depth_of(name) != Some(tabs) {
            return Err(at("unknown object or wrong nesting"));
        }
        let mut attrs = HashMap::new();
        while !attrs_text.is_empty() {
            let (key, after) = attrs_text
                .split_once("=\"")
                .ok_or_else(|| at("attribute"))?;
            let mut value = String::new();
            let mut chars = after.char_indices().peekable();
            let mut end = None;
            while let Some((j, c)) = chars.next() {
                if c == '"' {
                    if chars.peek().map(|x| x.1) == Some('"') {
                        value.push('"');
                        chars.next();
                        continue;
                    }
                    end = Some(j + 1);
                    break;
                }
                value.push(c);
            }
            let end = end.ok_or_else(|| at("unclosed value"))?;
            if value.is_empty() || key.contains(' ') {
                return Err(at("empty value or bad key"));
            }
            attrs.insert(key.to_string(), value);
            attrs_text = after[end..].strip_prefix(' ').unwrap_or(&after[end..]);
        }
        let get = |k: &str| {
            attrs
                .get(k)
                .cloned()
                .ok_or_else(|| at(&format!("missing {k}")))
        };
        match name {
            "Project" => {
                if get("TempoMode")? != "FamiTracker" || attrs.contains_key("Version") {
                    return Err(at("project"));
                }
            }
            "Instrument" => instruments.push(get("Name")?),
            "Envelope" => {
                let n: usize = get("Length")?.parse().unwrap();
                let vals: Vec<u8> = get("Values")?
                    .split(',')
                    .map(|v| v.parse().unwrap())
                    .collect();
                let hi = if get("Type")? == "Volume" { 15 } else { 3 };
                if vals.len() != n || vals.iter().any(|&v| v > hi) {
                    return Err(at("envelope"));
                }
            }
            "Song" => {
                length = get("Length")?.parse().unwrap();
                loop_point = get("LoopPoint")?.parse().unwrap();
                pattern_length = get("PatternLength")?.parse().unwrap();
                if get("FamiTrackerTempo")? != "60" || get("FamiTrackerSpeed")? != "1" {
                    return Err(at("tempo"));
                }
            }
            "PatternCustomSettings" => {
                custom.insert(
                    get("Time")?.parse().unwrap(),
                    get("Length")?.parse().unwrap(),
                );
            }
            "Channel" => channels.push((get("Type")?, HashMap::new(), Vec::new())),
            "Pattern" => {
                pattern = get("Name")?;
                channels
                    .last_mut()
                    .ok_or_else(|| at("pattern outside channel"))?
                    .1
                    .insert(pattern.clone(), Vec::new());
            }
            "Note" => {
                if let Some(inst) = attrs.get("Instrument") {
                    if !instruments.contains(inst) {
                        return Err(at("unknown instrument"));
                    }
                }
                channels
                    .last_mut()
                    .unwrap()
                    .1
                    .get_mut(&pattern)
                    .unwrap()
                    .push(attrs);
            }
            "PatternInstance" => {
                let ch = channels.last_mut().unwrap();
                let p = get("Pattern")?;
                if !ch.1.contains_key(&p) {
                    return Err(at("instance of an unknown pattern"));
                }
                ch.2.push((get("Time")?.parse().unwrap(), p));
            }
            _ => unreachable!(),
        }
    }
    let kinds: Vec<&str> = channels.iter().map(|c| c.0.as_str()).collect();
    if kinds != ["Square1", "Square2", "Triangle", "Noise", "DPCM"] {
        return Err(format!("channels {kinds:?}"));
    }
    let mut starts = Vec::new();
    let mut total = 0;
    for t in 0..length {
        starts.push(total);
        total += custom.get(&t).copied().unwrap_or(pattern_length);
    }
    let mut notes = vec![[0u8; 4]; total];
    for (ch, (_, pats, instances)) in channels.iter().take(4).enumerate() {
        for (t, p) in instances {
            let len = custom.get(t).copied().unwrap_or(pattern_length);
            for n in &pats[p] {
                let time: usize = n["Time"].parse().unwrap();
                let Some(value) = n.get("Value") else {
                    continue;
                };
                if value == "Stop" {
                    continue;
                }
                let (name, oct) = value.split_at(value.len() - 1);
                let semi = NAMES
                    .iter()
                    .position(|x| x.trim_end_matches('-') == name)
                    .ok_or("note name")?;
                let fs = oct.parse::<usize>().unwrap() * 12 + semi; // FamiTracker index
                let score = match ch {
                    3 => (fs - 31) as u8 + 1,
                    2 => fs as u8 + 12,
                    _ => fs as u8 + 24,
                };
                let dur: usize = n["Duration"].parse().unwrap();
                for k in time..(time + dur).min(len) {
                    notes[starts[*t] + k][ch] = score;
                }
            }
        }
    }
    Ok((
        notes,
        (loop_point >= 0).then(|| starts[loop_point as usize]),
    ))
}

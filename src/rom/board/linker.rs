//! The linker configurations (ld65 syntax, read by our assembler and by ld65) that place the
//! player, the song data and the vectors in the PRG of each board
//! ([`super::mapper::Mapper`]).

/// Linker configuration of NROM-256.
pub const NROM_CFG: &str = include_str!("../../../asm/nrom.cfg");

/// Linker configuration template of UxROM; see [`uxrom_cfg`].
pub const UXROM_CFG_TEMPLATE: &str = include_str!("../../../asm/uxrom.cfg");

/// The UxROM linker configuration for `banks` 16 KiB banks (the last one fixed): the template
/// with a bank for each switchable one ([`repeat_banks`]).
pub fn uxrom_cfg(banks: usize) -> String {
    repeat_banks(UXROM_CFG_TEMPLATE, banks.saturating_sub(1))
}

/// `template` with each `%BANK_MEMORY%` / `%BANK_SEGMENT%` line written once per bank
/// `0..banks`, `%n%` standing for the bank's number (the UxROM and banked NSF templates).
pub fn repeat_banks(template: &str, banks: usize) -> String {
    let mut out = String::new();
    for line in template.lines() {
        let repeated = line
            .strip_prefix("%BANK_MEMORY%")
            .or_else(|| line.strip_prefix("%BANK_SEGMENT%"));
        match repeated {
            Some(body) => {
                for n in 0..banks {
                    out.push_str(&body.replace("%n%", &n.to_string()));
                    out.push('\n');
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

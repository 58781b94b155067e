//! Building what a console or an NSF player runs: the player's graphics, NSF/NSFe files and
//! ca65 project export.

pub mod chr;
pub mod nsf;
pub mod nsfe;

//! The cartridge the ROM builder makes: the mapper and vectors ([`mapper`]), the linker
//! configurations that lay out its PRG ([`linker`]) and the NES 2.0 header ([`ines`]).

pub mod ines;
pub mod linker;
pub mod mapper;

pub use mapper::{Mapper, VECTORS};

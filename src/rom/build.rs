//! placeholder during development
pub struct BuildOptions;
pub struct Rom;
pub enum Mapper {}
pub fn build_rom() {}

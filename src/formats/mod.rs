pub mod vgm;
pub mod vgm_score;

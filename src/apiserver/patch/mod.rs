//! Patches and field ownership: strategic merge patch (`smp`), field sets in FieldsV1
//! (`fields`), and server-side apply with `managedFields` (`ssa`).

pub mod fields;
pub mod smp;
pub mod ssa;

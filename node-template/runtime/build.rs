//! Builds the runtime's wasm blob (see DESIGN.md for the toolchain it needs).

#[cfg(feature = "std")]
fn main() {
    substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

/// Nothing to build when this crate is itself compiled for wasm.
#[cfg(not(feature = "std"))]
fn main() {}

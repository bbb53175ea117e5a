//! Which function binary serves what, read from the one table of the five functions
//! (`wxauth_lambda::functions`): the function API Gateway routes a path to, and what each
//! binary's configuration serves.

use wxauth_lambda::functions::{AUTH, Function};

/// The function API Gateway routes a path to (template.yaml's events).
pub fn function_for(path: &str) -> &'static Function {
    Function::for_path(path).unwrap_or(&AUTH)
}

/// What a function binary serves, as its entry of the table says.
pub fn serves_of_binary(binary: &str) -> wxauth_core::config::Serves {
    Function::named(binary)
        .unwrap_or_else(|| panic!("no function binary {binary}"))
        .serves
}

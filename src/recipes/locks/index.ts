// Filled in by the locks recipes.
export {};

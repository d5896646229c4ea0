// Filled in by the discovery recipes.
export {};

import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "dist-sea/", ".cache/", "node_modules/", "coverage/", "bench/.work/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ["*.js", "*.mjs", "scripts/*.mjs", "bench/*.mjs", "test/fixtures/*.mjs"],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // A provider sees secretwrap only through src/provider-api.ts: the core can change behind it, and
    // the build gives every provider bundle that one module from ../core.js.
    files: ["providers/**/*.ts", "test/fixtures/provider-*/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "(^|/)src/(?!provider-api\\.ts$)",
              message: "a provider imports from src/ only src/provider-api.ts",
            },
          ],
        },
      ],
    },
  },
  {
    // A descriptor is read by every run: it may load no package (an SDK comes with the implementation)
    // and reaches its implementation and option schema only through load() and options().
    files: ["providers/*/descriptor.ts", "test/fixtures/provider-*/descriptor.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^[^.]", message: "a descriptor imports no package" },
            {
              regex: "^\\./(index|options)\\.ts$",
              allowTypeImports: true,
              message: "a descriptor loads its implementation and schema lazily (load(), options())",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
      },
    },
  },
);

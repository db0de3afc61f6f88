export declare const VOCABULARY_FILE: string;
export declare function collectVocabulary(): string[];
export declare function vocabularyModule(words: readonly string[]): string;

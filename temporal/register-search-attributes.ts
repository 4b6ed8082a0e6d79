/** Registers the product's custom search attributes on a namespace that lacks them. */
import { type Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_TYPE_NAMES, SEARCH_ATTRIBUTES } from './search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

const INDEXED_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.TEXT]: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DOUBLE]: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  [SearchAttributeType.BOOL]: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

export interface SearchAttributeCheck {
  added: string[];
  /** Still missing: the namespace refused (e.g. Temporal Cloud, where an admin adds them). */
  missing: string[];
  error?: string;
}

export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<SearchAttributeCheck> {
  const wanted = Object.values(SEARCH_ATTRIBUTES);
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const known = { ...existing.customAttributes, ...existing.systemAttributes };
    const missing = wanted.filter((key) => !(key.name in known));
    if (missing.length === 0) return { added: [], missing: [] };
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED_TYPE[key.type]!])),
    });
    return { added: missing.map((key) => key.name), missing: [] };
  } catch (error) {
    return {
      added: [],
      missing: wanted.map((key) => key.name),
      error: error instanceof Error ? error.message.split('\n')[0] : String(error),
    };
  }
}

/** The commands an admin runs where the worker may not register them itself. */
export function searchAttributeCommands(namespace: string): string[] {
  return Object.values(SEARCH_ATTRIBUTES).map(
    (key) =>
      `temporal operator search-attribute create --namespace ${namespace} --name ${key.name} --type ${SEARCH_ATTRIBUTE_TYPE_NAMES[key.type]}`,
  );
}

// Type declarations for osigu-widgets embed.js (served by the BFF at /embed.js).

export type OsiguWidgetName = "prescription" | "dispensing" | "preauth";

export interface OsiguTheme {
  primary_color?: string;    // "#rrggbb"
  text_color?: string;       // "#rrggbb"
  background_color?: string; // "#rrggbb"
  font_family?: string;      // letters, digits, spaces, commas, quotes and dashes
  radius?: string;           // "8px" or "1rem"
}

export interface OsiguError {
  /** e.g. "ORIGIN_NOT_REGISTERED" (this page's origin is not one of the host app's; not retryable),
   *  "LOAD_TIMEOUT", "SESSION_EXPIRED", "TOKEN_UNAVAILABLE", "BIOMETRIC_UNAVAILABLE", "BIOMETRIC_INVALID",
   *  "BIOMETRIC_TIMEOUT", or an upstream error code. */
  code: string;
  message: string;
  retryable: boolean;
}

export interface OsiguExit {
  reason: string;
  step?: string;
}

/** The pre-authorization widget's event "authorization_decided": a pended group decided while it is mounted. */
export interface OsiguAuthorizationDecided {
  authorization_code: string;
  status: "APPROVED" | "REJECTED";
  /** Why, when the sponsor says: "NOT_COVERED", "NOT_COVERED_BY_PLAN", "EXCLUDED_PRODUCT", "MEDICAL_REVIEW"… */
  reason?: string;
  /** Host apps with `outcome_format: "fhir"` only: a FHIR R4 Bundle with the group's ClaimResponse (A1/A3). */
  bundle?: Record<string, unknown>;
}

export type OsiguBiometricModality = "FINGERPRINT" | "FACE";

export interface OsiguBiometricReading {
  modality: OsiguBiometricModality;
  /** Standard Base64 of the reader's output (the widget refuses one over the sponsor's size limit); never logged. */
  reading: string;
}

export interface OsiguMountOptions {
  widget: OsiguWidgetName;
  /** A token from POST /v1/widget-sessions (made by your back end). */
  token?: string;
  /** Called at start when no token is given, and again whenever the session expires; the renewed
   *  session carries on the same draft (the expired token goes along as proof). */
  fetchToken?: () => Promise<string> | string;
  locale?: "es" | "en" | "pt";
  /** Applied when the widget starts; a theme given at session creation (validated by the BFF) wins. */
  theme?: OsiguTheme;
  /** The BFF's URL; defaults to the origin embed.js was loaded from. */
  baseUrl?: string;
  /** Put the focus in the widget's first step (its first field) when it arrives; default false, the host page's
   *  focus is left alone. Pass true when the user has just asked for the widget (pressed "Prescribe"): it is
   *  then their next task. Ignored if the user has moved the focus elsewhere since mount() was called. Later
   *  steps always focus their first field. */
  autofocus?: boolean;
  /** How long to wait for "ready" before onError({code: "LOAD_TIMEOUT"}); default 15000. */
  loadTimeoutMs?: number;
  onReady?: () => void;
  /** The outcome: identifiers and codes (e.g. prescription_id, prescription_code, status, created_at). */
  onSuccess?: (outcome: Record<string, unknown>) => void;
  onExit?: (info: OsiguExit) => void;
  onError?: (error: OsiguError) => void;
  /** Every widget → host message but the handshake and resize: "ready", "step", "success", "exit", "error",
   *  "session_expired", "biometric_requested", and the preauth widget's "authorization_decided"
   *  (data: OsiguAuthorizationDecided). */
  onEvent?: (type: string, data: Record<string, unknown> | OsiguAuthorizationDecided) => void;
  /** A biometric reader of the host's own (dispensing, preauth): the widget then offers it beside the camera and
   *  the file. Called when the user asks for a reading; a rejection, a malformed answer or no answer within
   *  biometricTimeoutMs reaches the widget as an error it shows, and onError as "BIOMETRIC_UNAVAILABLE",
   *  "BIOMETRIC_INVALID" or "BIOMETRIC_TIMEOUT". */
  onBiometricRequest?: (request: { modality: OsiguBiometricModality }) =>
    Promise<OsiguBiometricReading> | OsiguBiometricReading;
  /** How long onBiometricRequest may take; default 60000. */
  biometricTimeoutMs?: number;
}

export interface OsiguWidgetHandle {
  /** Removes the iframe and every listener; safe to call more than once. */
  destroy(): void;
}

export interface OsiguWidgetsApi {
  readonly version: string;
  mount(elementOrSelector: Element | string, options: OsiguMountOptions): OsiguWidgetHandle;
}

declare global {
  interface Window {
    OsiguWidgets: OsiguWidgetsApi;
  }
}

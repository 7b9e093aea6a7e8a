/** SIP dialogs (RFC 3261 §12) as plain JSON: creation, in-dialog requests and their effects. */
export { contactUri, createUacDialog, createUasDialog } from './create-dialog.ts';
export { incomingRequestDialogId, incomingResponseDialogId } from './dialog-match.ts';
export { createDialogAck, createDialogRequest, type DialogRequest, type DialogRequestOptions } from './dialog-request.ts';
export { requestTarget, type RequestTarget } from './dialog-routing.ts';
export {
  DialogError,
  dialogKey,
  TARGET_REFRESH_METHODS,
  type Dialog,
  type DialogId,
  type DialogState,
} from './dialog-state.ts';
export {
  receiveDialogRequest,
  receiveDialogResponse,
  sendDialogResponse,
  terminateDialog,
  type DialogRequestResult,
} from './dialog-update.ts';
export {
  startSuccessRetransmission,
  successRetransmissionTransition,
  type AckTimeoutAction,
  type SuccessRetransmission,
  type SuccessRetransmissionEvent,
  type SuccessRetransmissionOptions,
  type SuccessRetransmissionStatus,
  type SuccessRetransmissionTransition,
} from './success-retransmission.ts';

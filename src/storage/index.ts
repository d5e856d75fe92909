// The public face of src/storage: attachments by reference in S3-compatible object storage. The AWS SDK
// loads only when a first attachment is stored (attachment-store.ts).
export { AttachmentStore, type PlacedReference } from './attachment-store.ts';

// Package evidence knows the files a vendor uploads as test evidence (DOMAIN.md section 3):
// which slots a submission has, how each file must be named, how large it may be, what its
// bytes really are (format sniffers that never trust the name or the declared content type),
// and the result of a first machine pre-screening of the spreadsheets before a reviewer looks
// at them (the screening itself is in the subpackage prescreen).
//
// Every rejection is a *domain.Error with a stable code. The package imports no AWS package;
// callers hand it names, sizes and an io.ReaderAt / io.Reader over the stored bytes.
//
// Files by concern: slots.go (slots, limits, RequiredSlots), filename.go (the bracket naming
// convention), sniff.go (format detection and Verify), mp4.go (ISO-BMFF), cfb.go (OLE2
// compound files: .xls, .ppt), prescreen.go (the pre-screening result: Prescreen, Finding,
// their codes and limits). The pre-screening itself reads workbooks with excelize, whose
// package initialisation costs every cold start that links it about 2 ms, so it lives in the
// subpackage prescreen, which only the prescreen-workbook function imports.
package evidence

// The VS Code client for `sibc lsp`: every feature (diagnostics, hover, definition, references,
// rename, quick fixes, semantic tokens, folding, outline, completion, formatting) comes from the
// language server that sibc ships; this file only starts it.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("sibdsl");
  const command = config.get("server.command", "sibc");
  const args = config.get("server.args", ["lsp"]);
  client = new LanguageClient(
    "sibdsl",
    "sibdsl language server",
    { command, args },
    { documentSelector: [{ scheme: "file", language: "sib" }, { scheme: "untitled", language: "sib" }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

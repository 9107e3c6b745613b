//! `neretva taxii collections list|add|remove`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use neretva_model::Uuid;
use neretva_server::api::taxii::{CollectionDto, CollectionInput};
use neretva_server::registry::RegistrySnapshot;
use neretva_store::Store;
use neretva_store::taxii::Collection;

use crate::cli::CollectionsCommand;
use crate::commands::{cli_actor, ready_store};
use crate::config::Config;
use crate::output;

async fn find(store: &dyn Store, key: &str) -> anyhow::Result<Collection> {
    let found = match Uuid::try_parse(key) {
        Ok(id) => store.get_collection(id).await?,
        Err(_) => store.find_collection(key).await?,
    };
    found.with_context(|| format!("no TAXII collection {key:?}"))
}

pub(crate) async fn collections(config: &Config, command: CollectionsCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let registry = RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?;
    let api_root = &config.server.taxii.api_root;
    match command {
        CollectionsCommand::List { json } => {
            let collections = store.list_collections().await?;
            let dtos: Vec<CollectionDto> = collections
                .iter()
                .map(|collection| CollectionDto::new(collection, &registry, api_root))
                .collect();
            if json {
                output::json(&dtos);
            } else {
                let rows: Vec<Vec<String>> = dtos
                    .iter()
                    .map(|dto| {
                        let sharing = if dto.sharing_orgs.is_empty() {
                            dto.sharing.clone()
                        } else {
                            format!("{} ({})", dto.sharing, dto.sharing_orgs.join(", "))
                        };
                        vec![
                            dto.id.to_string(),
                            dto.title.clone(),
                            dto.owner.clone().unwrap_or_default(),
                            sharing,
                            dto.writers.clone(),
                            dto.url.clone(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "TITLE", "OWNER", "SHARING", "WRITERS", "URL"], &rows);
            }
        }
        CollectionsCommand::Add {
            title,
            sharing,
            share_with,
            owner,
            writers,
            default_tlp,
            alias,
            description,
            json,
        } => {
            let input = CollectionInput {
                title,
                description,
                alias,
                owner,
                sharing,
                sharing_orgs: share_with,
                writers: Some(writers),
                default_tlp: Some(default_tlp),
            };
            let fields = match input.fields(&registry) {
                Ok(fields) => fields,
                Err(problems) => {
                    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    bail!("the collection is not valid:\n  {}", text.join("\n  "));
                }
            };
            let collection = store.create_collection(&cli_actor(), Uuid::new_v4(), &fields).await?;
            let dto = CollectionDto::new(&collection, &registry, api_root);
            if json {
                output::json(&dto);
            } else {
                output::line(&format!("collection {} created: {}", dto.id, dto.url));
            }
        }
        CollectionsCommand::Remove { collection, json } => {
            let found = find(store.as_ref(), &collection).await?;
            store.delete_collection(&cli_actor(), found.id).await?;
            if json {
                output::json(&serde_json::json!({ "removed": found.id }));
            } else {
                output::line(&format!("collection {} ({}) removed", found.id, found.fields.title));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

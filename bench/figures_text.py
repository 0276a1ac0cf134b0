"""What BENCHMARKS.md says of each figure's method, and of what limits the targets missed (French)."""

BASELINE = (
    "Les processus de la campagne (projet d'accueil et parcours volontaire, {tasks} tâches utilisateur "
    "par instance, avec passerelles, scripts, tables DMN et tâches de service) exécutés entièrement en "
    "mémoire par SpiffWorkflow 3.2 seul : ni base de données, ni web, ni validation de formulaire, le "
    "moteur de scripts de SpiffWorkflow et des résultats fixes pour les tâches de service. {instances} "
    "instances par exécution. C'est le plancher auquel nos coûts se comparent ; le coût d'une tâche est "
    "`add_data_from_form` + `run` + `do_engine_steps`."
)

COMPLETION = (
    "Chaque complétion est celle d'une requête, dans sa propre session : lecture de la tâche, des autres "
    "tâches prêtes et de l'instance (avec sa version), contrôle du rôle et du périmètre, validation du "
    "formulaire (JSON Schema et règles des gestionnaires de tâches), exécution de la tâche et des étapes "
    "moteur (vrais gestionnaires de tâches de service, DMN, scripts sous RestrictedPython), compaction de "
    "l'historique, écriture de l'état, de la table des tâches et de l'événement d'audit en une transaction. "
    "Toutes les tâches de la campagne entière sont mesurées, instance après instance à chaque étape. Le "
    "rendu PDF du contrat (WeasyPrint) est remplacé par un PDF fixe, comme la référence remplace tous les "
    "gestionnaires ; il est mesuré à part. Le rapport compare les médianes, la référence étant mesurée "
    "juste avant et juste après chaque exécution (moyenne des deux) ; il est donné aussi en temps processeur (celui du processus de mesure, que "
    "l'attente de la base et les autres processus de la machine n'allongent pas). Le ramasse-miettes de Python est réglé pour les figures 1 à 3 comme dans les workers web (engine/runtime/collector.py : objets du démarrage gelés, jeune génération collectée toutes les 20 000 allocations). Requêtes SQL comptées au niveau du curseur. L'état est enregistré par "
    "différences (engine/runtime/serialization.py : seules les tâches changées depuis l'état lu, en une ligne "
    "ajoutée au journal de l'instance, l'état entier réécrit quand le journal pèse plus de deux fois l'état). "
    "Le détail d'une complétion (une exécution de plus, chronométrée par partie) donne le temps passé par "
    "complétion à écrire l'état, à construire le contexte des gestionnaires de tâches, à effacer les "
    "brouillons et dans les gestionnaires de tâches de service ; puis, à chaque enregistrement d'une autre "
    "exécution, l'état est sérialisé des deux façons, entier et par différences, l'une juste après l'autre."
)

FLOOR = (
    "Plancher (SQLite, bench/floor.py) : les tâches de la campagne de la figure 1, complétées en mémoire comme "
    "là, puis rendues durables de la façon la plus économe que les tables de la plateforme permettent, avec le "
    "module sqlite3 seul : lecture de la tâche avec son instance, différences de l'état au format de la "
    "plateforme, puis une transaction (ligne de l'instance sur sa version, ligne du journal de l'état, tâche qui "
    "part et tâches qui arrivent, événement d'audit) sur le schéma migré avec tous ses index. Ni ORM, ni "
    "SQLAlchemy, ni validation de formulaire, ni gestionnaire de tâches : ce qui resterait d'une complétion si "
    "tout ce que la plateforme ajoute à SpiffWorkflow ne coûtait que ses écritures. {completions} complétions "
    "par exécution ; l'étape en mémoire est chronométrée dans la même boucle, et le rapport compare les deux."
)

BY_TASK = (
    "Le tableau reprend la figure 2 type de tâche par type de tâche (SQLite, autant d'exécutions de plus que "
    "pour la figure, médianes en ms de toutes leurs complétions : une exécution complète un même type pour "
    "chaque dossier à la suite, en quelques dizaines de millisecondes, qu'un à-coup de la machine ralentirait "
    "en entier ; types rangés du moins cher au plus cher sur la plateforme ; bench/by_task.py). L'étape en mémoire et le "
    "plancher durable sont ceux du plancher ci-dessus, pour le même type. La validation (schéma JSON du "
    "formulaire, règles des gestionnaires de tâches, listes de choix), les gestionnaires de tâches de service "
    "(les vrais, avec leurs lectures) et les fichiers reçus (écrits sur le disque et enregistrés) sont "
    "chronométrés pendant les complétions de la plateforme : c'est le travail que ni la référence ni le plancher "
    "ne font. Leur somme avec le plancher est le moins qu'une complétion de ce type puisse coûter en faisant le "
    "même travail, tel qu'il est écrit aujourd'hui ; le reste est le coût propre de la plateforme autour de ce "
    "travail (lecture de la tâche par l'ORM, session, lignes des tâches en objets, signatures des "
    "différences…), la seule part qu'une réécriture de l'exécution des processus pourrait retirer sans toucher "
    "aux formulaires ni aux gestionnaires. La médiane de ce minimum, pondérée par le nombre de complétions de "
    "chaque type, rapportée à celle de l'étape en mémoire, donne le rapport que la figure 2 atteindrait au mieux."
)

HISTORY = (
    "Une instance de longue durée boucle sur une tâche utilisateur (bench/loop/bench_loop.bpmn : un "
    "entretien de suivi répété jusqu'à la fin de mission). On compare la {late}e complétion à la 10e, par "
    "paires pour neutraliser le bruit de la machine : {samples} fois, la 10e complétion d'une instance "
    "neuve puis la complétion suivante de l'instance longue (de la {late}e moins {samples} à la {late}e). "
    "SpiffWorkflow garde toutes les tâches déjà exécutées dans l'arbre de l'instance ; avant chaque "
    "enregistrement, `engine/runtime/compaction.py` coupe la chaîne des tâches terminées qui mène aux tâches "
    "vivantes à ses 20 dernières tâches (l'historique lisible reste dans les événements d'audit)."
)

SCALE = (
    "{instances} instances (cinq campagnes, dont la campagne en cours avec une tâche à faire par instance) "
    "et {tasks} tâches accomplies, insérées en masse par des INSERT SQLAlchemy core ; chaque instance "
    "porte un état moteur réel de projet d'accueil à mi-parcours. Temps serveur mesuré dans le processus, "
    "sans réseau : la requête du moteur seule, puis la requête entière à travers l'application Flask "
    "(authentification, requêtes, rendu). {calls} appels par vue après deux appels d'échauffement. La "
    "boîte de réception est celle du gestionnaire d'une Urogec de douze départements, lue par pages de 50 "
    "tâches découpées par clé (échéance, création, identifiant ; engine/views/inbox.py) : la première page, "
    "et une page suivante lue avec le curseur qui suit sa centième tâche ; la page d'accueil y ajoute les "
    "comptes par type de tâche (une requête GROUP BY). La page de dossier est une de ses instances avec son "
    "historique ; les comptes, ceux du gestionnaire national (toutes les instances). La page d'une tâche "
    "(formulaire, sections de contexte lues dans l'historique du dossier, brouillon de la personne) et "
    "l'enregistrement d'un brouillon sont ceux du contrat d'un projet d'accueil que le moteur a mené jusque-là, "
    "pour le gestionnaire de son Udogec ; son état est celui que portent toutes les instances insérées. Comme chaque worker "
    "gunicorn de la plateforme (gunicorn.conf.py), le processus de mesure gèle avec `gc.freeze()` les objets "
    "présents une fois l'application chargée, après une série mesurée sans ce gel pour le ramasse-miettes "
    "(voir les notes)."
)

HTTP = (
    "`gunicorn 'webapp:create_app()'` avec {workers} workers synchrones sur la boucle locale, "
    "bench/gunicorn_conf.py ajoutant à chaque réponse le nombre de requêtes SQL envoyées et le temps passé dans "
    "le worker, de l'appel de l'application au début de sa réponse. Le générateur "
    "de charge (fils d'exécution et client HTTP de la bibliothèque standard, une connexion par requête) "
    "tourne sur la même machine de deux cœurs. Chaque client complète, avec des jetons d'API, les "
    "tâches de ses propres projets d'accueil jusqu'au contrat (projet, instruction, publication, "
    "sélection, avis du tuteur, dossier du volontaire : tâches de service, DMN et scripts compris ; la "
    "tâche du contrat et son PDF exclues) : aucune réponse autre que 200 n'est admise. Un client seul mesure la "
    "latence vue du client, et la part de cette latence passée dans le worker (le reste : connexion TCP, HTTP, "
    "client) ; {clients} clients pendant {seconds:g} s mesurent le débit soutenu. Avant les mesures du client "
    "seul, puis avant la charge, PostgreSQL écrit ce que les figures précédentes ont laissé dans sa mémoire "
    "(CHECKPOINT) et la machine a jusqu'à {quiet:g} s pour que sa charge moyenne (1 min) passe sous 1 : "
    "la note de la dernière ligne donne la charge relevée alors. Pendant la "
    "charge, le temps processeur (utilisateur + système, lu dans /proc) des workers, des processus serveurs "
    "de PostgreSQL qui servent la base de mesure et du générateur de charge est relevé : divisé par les "
    "complétions, il donne le coût processeur d'une complétion, donc ce que chaque cœur ajouté apporte "
    "(1 / CPU par complétion, les workers ne partageant rien) et le nombre de cœurs que demanderaient "
    "200 complétions par seconde. La cible de débit est tenue par les 200 complétions par seconde mesurées, ou, "
    "quand les cœurs de la machine ne peuvent les donner (ceux que prendraient les workers, PostgreSQL et le "
    "générateur de charge dépassent ceux de la machine), par ce modèle processeur : la note de la ligne du "
    "débit dit lequel des deux."
)

PEERS = (
    "SpiffArena (le produit de référence bâti sur SpiffWorkflow) ne s'installe pas sur cette machine depuis "
    "les sources publiques qu'elle atteint, et ne publie pas de latence ni de débit par complétion. La "
    "dernière comparaison côte à côte connue, faite en décembre 2026 sur une machine de ce type (deux cœurs, "
    "chargée : des rapports seulement), avant l'enregistrement par différences : à travers son API JSON, la "
    "plateforme accomplissait une tâche 5,8 fois plus vite que le backend de SpiffArena sur SQLite et 4,3 fois "
    "sur PostgreSQL, avec 5,4 fois moins de temps processeur côté serveur et 7 fois moins de requêtes SQL. Ce "
    "que ses mainteneurs ont publié sur le même coût : en février 2023 (spiff-arena, demande de fusion 129), "
    "ne plus sérialiser l'état entier à chaque étape ; en novembre 2023 (ticket 773), des validations qui "
    "expirent sur des instances vieilles de quelques semaines ; en mars 2026 (demande de fusion 2718), moins "
    "d'appels au sérialiseur et les données des tâches en différences, un coût encore quadratique restant "
    "attribué à l'écriture d'une ligne par tâche exécutée. Notre enregistrement par différences et la "
    "compaction de l'historique (figure 3) visent ce même coût."
)

MEMORY = (
    "Pic de mémoire résidente (VmHWM lu dans /proc) du plus gros worker gunicorn, pendant un passage "
    "sur les vues de la figure 4 (données à grande échelle) et pendant la charge de la figure 5."
)

DIRECTORY = (
    "Le banc d'essai de l'import de l'annuaire (`bench.directory_import.run`) : un fichier Isidoor "
    "national généré ({establishments} établissements, {people} personnes), importé dans une base vide, "
    "puis importé de nouveau (rien ne doit changer)."
)



def thousands(number: int) -> str:
    """An integer with its thousands apart, the French way (312 306)."""
    return f"{number:,}".replace(",", "\u202f")


def collector_note(database: str, collector: dict) -> str:
    """What figure 4 says of the garbage collector's pauses on a database, before and after `gc.freeze()`."""
    def ms(value: float) -> str:
        return f"{value:.1f}".replace(".", ",") + " ms"

    return (
        f"{database}, ramasse-miettes : le processus de mesure suit {thousands(collector['tracked'])} objets ; une "
        f"collecte complète prend {ms(collector['full_ms'])}. Sans gel, sur {collector['unfrozen_calls']} appels "
        f"des vues de la boîte de réception, {collector['unfrozen_slow']} ont dépassé 100 ms et "
        f"{collector['unfrozen_full']} collecte(s) complète(s) ont eu lieu, la plus longue de "
        f"{ms(collector['unfrozen_longest_ms'])}. Après `gc.freeze()` ({thousands(collector['frozen'])} objets "
        f"gelés), une collecte complète prend {ms(collector['full_after_ms'])}, et la plus longue pendant les "
        f"mesures ci-dessus ({collector['frozen_full']} collecte(s) complète(s)) "
        f"{ms(collector['frozen_longest_ms'])}."
    )


LIMITS = [
    "Ce qui limite ces chiffres, d'après les profils (cProfile) d'une complétion :",
    "",
    "- **La charge de la machine.** Les mesures partagent deux cœurs avec tout ce qui s'exécute en même "
    "temps (voir la charge moyenne en tête) : avec une charge de 10 à 15, chaque durée est plusieurs fois "
    "plus longue que sur une machine au repos. La machine virtuelle elle-même change d'un jour à l'autre : "
    "l'étape de référence de la figure 1 a pris de 0,34 à 1,23 ms selon les jours, et toutes les durées "
    "avec elle (le 7 décembre vers 3 h 40, 1,23 ms contre 0,37 ms la veille à minuit : les durées absolues "
    "de l'exécution complète étaient environ trois fois plus longues, les rapports les mêmes, 8,8 × contre "
    "8,9 × à la figure 2). Les nombres de requêtes et les rapports (figure 2 à la référence du même jour, figure 3 par "
    "paires) se comparent d'une exécution à l'autre, à une dizaine de pour cent près pour les rapports (le 7 "
    "décembre au matin, trois exécutions complètes en 70 minutes, sans changement du code d'une complétion : "
    "3,70, 4,15 puis 3,41 ms par complétion, 9,2, 10,2 puis 8,6 × à la figure 2) ; les durées absolues, "
    "seulement sur la même machine. La "
    "figure 5 attend que la machine se calme après la figure 4 (voir son texte). Le 7 décembre après-midi, "
    "PostgreSQL était plus lent qu'à 9 h 30 quel que soit le code : la 10e complétion de la figure 3 prenait "
    "5,45 ms sur PostgreSQL avec le code mesuré à 9 h 30 (4,80 ms alors) et 5,42 ms avec le code d'aujourd'hui, "
    "lancés l'un après l'autre ; la figure 5 en mode rapide, lancée quatre fois en alternant les deux codes, "
    "donnait au même code d'avant 11,5 puis 10,9 ms pour un client seul sur PostgreSQL, et 12,0 puis 11,1 ms au "
    "code d'aujourd'hui, qui prend pourtant 10 % de processeur de moins par complétion dans les workers (7,91 et "
    "7,68 ms contre 7,12 et 6,99). Les cibles de la figure 5 sur PostgreSQL (10 ms pour un client seul, 200 "
    "complétions par seconde), atteintes à 9 h 30, se jouent à ces écarts de la machine près."
    " Le 7 décembre au soir, une autre machine virtuelle (processeur AMD EPYC au lieu d'Intel Xeon) donnait à code égal des durées plus longues, surtout à travers HTTP et sur PostgreSQL : la figure 4 en mode rapide, lancée avec le code d'avant la préparation des requêtes puis avec celui-ci, donnait sur PostgreSQL 70,5 puis 47,6 ms en médiane pour la page d'un dossier (31,3 ms sur la Xeon) et 41,7 puis 44,1 ms pour la liste des dossiers (29,0) ; un client seul à travers HTTP sur PostgreSQL (210 complétions, les deux codes alternés deux fois) 11,7 et 13,4 ms avec le code d'avant, 10,5 et 12,9 ms avec celui-ci.",
    "- **Rapport à SpiffWorkflow seul (cible 5×).** Où il en est, type de tâche par type de tâche : le "
    "tableau de la figure 2 et la phrase qui le suit.\n"
    "  - *Ce qui est fait.* Une complétion ne désérialise pas l'instance quand le worker l'a enregistrée "
    "lui-même à la version lue (engine/runtime/workflow_cache.py). L'état s'enregistre par différences, en une "
    "ligne ajoutée à la table instance_state_change (migrations 0024_state_deltas et 0028_state_change_rows). "
    "L'instance, les tâches, l'audit et le courriel s'écrivent par des instructions compilées une fois par "
    "base, sur le curseur de la session (engine/prepared.py). Les tâches prêtes se trouvent par un parcours "
    "direct de l'arbre (spiff_internals.open_tasks) ; les recherches des gestionnaires de tâches sont "
    "construites une fois ; le ramasse-miettes est réglé comme dans les workers.\n"
    "  - *Ce qui reste.* À travail égal (le plancher durable, plus la validation, les gestionnaires de tâches "
    "de service et les fichiers reçus tels qu'ils sont écrits), la complétion médiane coûte déjà de 4 à 4,5 fois "
    "l'étape en mémoire selon les exécutions. Autour de ce travail, la plateforme ajoute de 1 à 1,2 ms par "
    "complétion en médiane des types, presque autant pour chacun (dernière colonne) : la lecture de la tâche et de son dossier par l'ORM (0,3 ms, "
    "contre 0,03 ms au curseur), les lignes des tâches construites en objets de l'ORM (0,2 ms), la session et "
    "sa transaction, l'audit et la ligne de l'instance. Aucune de ces parties ne dépasse 0,35 ms.\n"
    "  - *Ce qu'il faudrait.* Une complétion sans ORM ni SQLAlchemy, au plus près du plancher, et des "
    "gestionnaires et une validation plus économes : les types du milieu de la campagne (l'instruction du "
    "projet, dont le gestionnaire prévient le référent ; le contrat signé déposé ; le projet lui-même) prennent "
    "déjà de 1,8 à 2,2 ms à travail égal, à peu près ce que la cible accorde à la complétion entière.\n"
    "  - *Essayé et écarté* (mesuré, sans gain réel) : laisser le journal des différences grandir jusqu'à "
    "64 Ko quel que soit l'état (l'état entier était réécrit à la confirmation du contrat, où il pèse 58 Ko : "
    "2,7 ms au lieu de 0,4) ; regarder le type d'une tâche avant la table des sous-processus dans open_tasks "
    "(0,5 % des instructions) ; lire la tâche sans le déploiement ni l'Ogec de l'établissement (280 → 235 µs, "
    "mais une requête de plus pour les tâches qui en ont besoin) ; construire les objets de la lecture à partir "
    "du curseur (environ 0,1 ms de gagné, au prix de l'enregistrement à la main d'objets dans la session).\n"
    "  - *Comment les gains sont mesurés.* Les gains plus petits que l'écart d'une heure à l'autre de la "
    "machine sont comptés en instructions exécutées (callgrind) : les écritures sur le curseur retirent "
    "0,75 million d'instructions par complétion (20,6 contre 19,9 millions, dont 4,3 pour le pilote du banc), "
    "environ 5 % de la complétion elle-même.",
    "- **Requêtes SQL par complétion (cible 10).** Une tâche sans tâche de service derrière elle en fait 6 "
    "dans le moteur (tâche, tâches prêtes, instance, établissement et campagne en une ; audit ; instance, "
    "dont la mise à jour conditionnée par la version lue tient lieu de réservation ; état ; tâche accomplie ; "
    "tâche suivante) et 7 à travers l'API (jeton, personne et rôles en une ; la réponse reprend les tâches "
    "ouvertes et les échéances que l'enregistrement vient d'écrire, sans les relire). Seuls les gestionnaires "
    "qui écrivent des lignes qu'un changement concurrent du même dossier pourrait écrire aussi réservent "
    "d'abord l'instance (`claims_instance` dans handlers/catalog.py). Celles que suivent des tâches de service "
    "en font davantage, chaque gestionnaire lisant ce dont il a besoin (lues une fois par requête) : 9 pour "
    "l'instruction, 10 pour le dossier du volontaire, 12 pour l'établissement du contrat (réservation, tuteurs, "
    "structure, contrat enregistré par un seul INSERT … ON CONFLICT qui rend sa version, document), bornées "
    "par tests/test_state_by_differences.py, que le worker ait le workflow en mémoire ou non : sinon, l'état "
    "vient avec la tâche, dans la même requête.",
    "- **Latence sur PostgreSQL.** Chaque requête SQL coûte un aller-retour (environ 0,3 ms sur la boucle "
    "locale ; une connexion restée inactive plus d'une seconde est d'abord vérifiée par un aller-retour de plus, "
    "une connexion qui vient de servir ne l'est pas) et la validation de "
    "la transaction attend l'écriture du journal sur disque (`synchronous_commit`) : pour une dizaine de "
    "requêtes, c'est déjà plusieurs millisecondes avant tout calcul. Les requêtes de la complétion sont "
    "préparées sur le serveur, planifiées une fois par connexion (engine/db.py, `SERVER_PREPARED`) : la "
    "lecture des tâches prêtes avec leur dossier et leur état demandait à elle seule 0,7 à 1,7 ms de "
    "planification ; les listes, elles, gardent un plan fait pour leurs propres valeurs.",
    "- **Boîte de réception d'un grand territoire.** Elle est lue par pages de 50 tâches (clé : échéance, "
    "création, identifiant ; index de la migration 0023_inbox_keyset) : une page suivante coûte comme la "
    "première, quelle que soit la taille de la boîte, et les comptes par type de tâche sont une seule requête "
    "GROUP BY. Les pauses d'environ 300 ms qui frappaient un ou deux appels sur trente, jusque dans la requête "
    "du moteur seule, venaient du ramasse-miettes de Python : une collecte complète (génération 2) parcourt "
    "tous les objets que le processus suit, plus de 250 000 dans un worker qui vient de charger l'application "
    "(SpiffWorkflow, WeasyPrint, SQLAlchemy…), environ 310 000 dans le processus de mesure ; sur cette machine "
    "chargée, une telle collecte prenait 450 à 660 ms et tombait dans un appel sur douze à la requête du moteur. "
    "Mesuré avec `gc.callbacks` sur la figure 4 à 50 000 instances (SQLite) : sans gel, 11 appels sur 150 "
    "de la requête du moteur au-delà de 100 ms, chacun contenant une collecte complète de 450 à 660 ms ; après "
    "`gc.freeze()`, aucun appel au-delà de 100 ms et des collectes complètes de 0,4 à 10 ms. Les workers "
    "gèlent donc leurs objets de démarrage (`post_worker_init` de gunicorn.conf.py), comme le processus de "
    "mesure ; les notes de la figure 4 redonnent ces chiffres à chaque exécution. L'état moteur n'est plus "
    "dans la ligne de l'instance (table instance_state, migration 0014_instance_state) : les parcours "
    "d'instances ne lisent plus ses dizaines de kilo-octets.",
    "- **Page entière du tableau de bord (/suivi/).** Une dizaine de requêtes quelle que soit la taille des "
    "données (engine/views/monitoring_page.py), dont deux parcourent toutes les instances du processus : les "
    "compteurs et répartitions en un seul passage groupé, l'attente par étape sur toutes les tâches en "
    "attente. Aucune ne dépend des statistiques de la base pour rester linéaire : sans elles (base tout "
    "juste chargée, autovacuum arrêté comme ici), PostgreSQL choisissait des plans quadratiques et la "
    "page prenait une centaine de secondes. Avec des statistiques (`ANALYZE`, que l'autovacuum fait en "
    "production), PostgreSQL joint par hachage et la page est environ deux fois plus rapide.",
    "- **Débit HTTP.** Deux cœurs partagés entre quatre workers, PostgreSQL et le générateur de charge : "
    "le débit est borné par le temps processeur d'une complétion (moteur, sérialisation, ORM, gestionnaires) ; "
    "il augmente avec le nombre de cœurs, les workers étant sans état partagé : la figure 5 donne le temps "
    "processeur mesuré par complétion, ce qu'apporte chaque cœur et le nombre de cœurs qu'il faudrait pour "
    "200 complétions par seconde. Sous charge, chaque worker voit passer surtout des dossiers qu'un autre a "
    "traités en dernier (plus de dossiers en cours que son cache n'en garde) : il relit et reconstruit l'état "
    "à presque chaque complétion. À code égal, la machine virtuelle change d'une heure à l'autre : le 6 "
    "décembre, 222 complétions par seconde sur PostgreSQL vers 15 h et 186 vers 15 h 50 ; le soir, une "
    "exécution complète donnait 15,9 ms pour un client sur PostgreSQL et 118 complétions par seconde, la "
    "figure 5 lancée seule quelques minutes après 9,8 ms et 157 par seconde. Vers 23 h 30, la figure 5 lancée "
    "seule (9,5 ms, 187 par seconde), juste après la figure 4 (9,4 ms, 185 par seconde) puis dans une "
    "exécution complète (8,3 ms, 209 par seconde) donnait les mêmes chiffres, à l'écart entre exécutions près : "
    "l'ordre des figures n'y est pour rien. La figure 5 attend une machine calmée avant ses mesures "
    "(CHECKPOINT de PostgreSQL, charge sous 1) : sans cela, juste après la figure 4, le débit perdait 8 %.",
    "- **Complétion seule à travers HTTP.** Autour du moteur, la couche web coûte moins d'une milliseconde de "
    "processeur : le jeton donne sa personne et ses rôles en une requête de colonnes, sans objets ORM ; le "
    "limiteur de débit ne regarde que les connexions ; PostgreSQL ne vérifie une connexion du pool que si elle "
    "est restée inactive plus d'une seconde. La ligne « dont temps dans le worker » sépare ce que le worker "
    "passe sur la requête du reste de la latence : connexion TCP neuve à chaque requête, HTTP, et le client de "
    "la bibliothèque standard, qui partage les deux cœurs avec le worker. Dans le worker, l'écart avec la "
    "figure 2 vient de ce que, avec quatre workers, la complétion suivante d'un même dossier tombe le plus "
    "souvent sur un autre worker, qui n'a pas son workflow en mémoire : il lit l'état dans la même requête SQL "
    "que la tâche (le cache des workers sait quelles tâches prêtes ont les workflows qu'il garde) et le "
    "reconstruit : l'analyseur JSON restaure lui-même les valeurs typées, au lieu que le registre de "
    "SpiffWorkflow reparcoure ensuite toutes les données de chaque tâche (tests/test_state_loading.py pour "
    "l'équivalence avec ses propres convertisseurs).",
]
